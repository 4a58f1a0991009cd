"""Source adapters: turn MES, ERP, WMS and QMS changes into Avro events on Kafka, keyed by batch code."""
