package tracesync.examples;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.config.SerdeConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Materialises the current state of tracesync's compacted chain topic: reads every partition from
 * its start up to the end it had when the consumer started, keeps the record with the highest
 * {@code version} of each batch code (a lower version is stale: a redelivery or a redriven record)
 * and prints one JSON object per batch, sorted by batch code, on standard output.
 *
 * <p>Usage: {@code java -jar target/chain-consumer.jar --bootstrap-servers HOST:PORT
 * --registry-url http://HOST:PORT/apis/registry/v3 --topic trace.chain [--timeout-s 120]}
 */
public final class ChainConsumer {

    private ChainConsumer() {
    }

    public static void main(String[] args) {
        Map<String, String> options = parse(args);
        String topic = options.getOrDefault("topic", "trace.chain");
        Duration timeout = Duration.ofSeconds(Long.parseLong(options.getOrDefault("timeout-s", "120")));
        Map<String, GenericRecord> latest;
        try (KafkaConsumer<String, GenericRecord> consumer = new KafkaConsumer<>(config(options))) {
            latest = readToEnd(consumer, topic, timeout);
        }
        StringBuilder out = new StringBuilder();
        for (GenericRecord chain : latest.values()) {
            AvroJson.write(out, chain, chain.getSchema());
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }

    static Properties config(Map<String, String> options) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, required(options, "bootstrap-servers"));
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, AvroKafkaDeserializer.class.getName());
        // should the worker write in transactions (exactly-once), skip aborted records
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // Apicurio's core API; its default id handling (4-byte content id after a 0 byte) is the
        // Confluent wire format with the ids the Confluent-compatible API hands out
        props.put(SerdeConfig.REGISTRY_URL, required(options, "registry-url"));
        return props;
    }

    static Map<String, GenericRecord> readToEnd(
            KafkaConsumer<String, GenericRecord> consumer, String topic, Duration timeout) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                .map(info -> new TopicPartition(topic, info.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        Map<String, GenericRecord> latest = new TreeMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!caughtUp(consumer, end)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not at the end of " + topic + " after " + timeout);
            }
            for (ConsumerRecord<String, GenericRecord> record : consumer.poll(Duration.ofMillis(500))) {
                keepNewest(latest, record);
            }
        }
        return latest;
    }

    static void keepNewest(Map<String, GenericRecord> latest, ConsumerRecord<String, GenericRecord> record) {
        if (record.value() == null) {
            latest.remove(record.key()); // a tombstone: the batch is gone
            return;
        }
        GenericRecord known = latest.get(record.key());
        if (known == null || version(known) < version(record.value())) {
            latest.put(record.key(), record.value());
        }
    }

    private static long version(GenericRecord chain) {
        return ((Number) chain.get("version")).longValue();
    }

    private static boolean caughtUp(KafkaConsumer<String, GenericRecord> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> entry : end.entrySet()) {
            if (consumer.position(entry.getKey()) < entry.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }
}
