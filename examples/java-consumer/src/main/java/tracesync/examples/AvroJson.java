package tracesync.examples;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Writes an Avro datum as JSON, guided by its schema: unions unwrapped, enums as their symbol,
 * decimals as plain decimal strings ("12.500"), timestamp-millis as epoch milliseconds and dates
 * as days since the epoch (their Avro values).
 */
final class AvroJson {

    private AvroJson() {
    }

    static void write(StringBuilder out, Object value, Schema schema) {
        switch (schema.getType()) {
            case UNION -> write(out, value, schema.getTypes().get(GenericData.get().resolveUnion(schema, value)));
            case NULL -> out.append("null");
            case RECORD -> record(out, (GenericRecord) value, schema);
            case ARRAY -> array(out, (Collection<?>) value, schema.getElementType());
            case MAP -> map(out, (Map<?, ?>) value, schema.getValueType());
            case BYTES, FIXED -> bytes(out, value, schema);
            case STRING, ENUM -> string(out, value.toString());
            case INT, LONG, FLOAT, DOUBLE, BOOLEAN -> out.append(value);
            default -> throw new IllegalArgumentException("unexpected Avro type " + schema.getType());
        }
    }

    private static void record(StringBuilder out, GenericRecord record, Schema schema) {
        out.append('{');
        String separator = "";
        for (Schema.Field field : schema.getFields()) {
            out.append(separator);
            string(out, field.name());
            out.append(':');
            write(out, record.get(field.pos()), field.schema());
            separator = ",";
        }
        out.append('}');
    }

    private static void array(StringBuilder out, Collection<?> items, Schema itemSchema) {
        out.append('[');
        String separator = "";
        for (Object item : items) {
            out.append(separator);
            write(out, item, itemSchema);
            separator = ",";
        }
        out.append(']');
    }

    private static void map(StringBuilder out, Map<?, ?> values, Schema valueSchema) {
        out.append('{');
        String separator = "";
        for (Map.Entry<?, ?> entry : values.entrySet()) {
            out.append(separator);
            string(out, entry.getKey().toString());
            out.append(':');
            write(out, entry.getValue(), valueSchema);
            separator = ",";
        }
        out.append('}');
    }

    private static void bytes(StringBuilder out, Object value, Schema schema) {
        byte[] raw;
        if (value instanceof ByteBuffer buffer) {
            raw = new byte[buffer.remaining()];
            buffer.duplicate().get(raw);
        } else {
            raw = ((GenericData.Fixed) value).bytes();
        }
        LogicalType logical = schema.getLogicalType();
        if (logical instanceof LogicalTypes.Decimal decimal) {
            string(out, new BigDecimal(new BigInteger(raw), decimal.getScale()).toPlainString());
        } else {
            string(out, java.util.Base64.getEncoder().encodeToString(raw));
        }
    }

    private static void string(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
