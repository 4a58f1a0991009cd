"""tracesync: one live trace chain per batch, synced across MES, ERP, WMS and QMS over Kafka.

This core package holds what the producers, streams and sinks share: typed settings, the error
hierarchy, the topic catalog, the Kafka client configurations, the publisher, the shared
bootstrap builders, the Avro contract (:mod:`tracesync.contracts`), the GS1 standards
(:mod:`tracesync.gs1`) and the command-line entry point. :mod:`tracesync.devtools` is tooling
(simulator, demo, bench, local infrastructure) that the runtime never imports.
"""

__version__ = "0.1.0"
