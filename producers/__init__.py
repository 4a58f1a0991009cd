"""Source adapters: MES, ERP, WMS and QMS changes become Avro events on Kafka, keyed by batch."""
