"""tracesync: one live trace chain per batch, synced across MES, ERP, WMS and QMS over Kafka.

This core package holds what the producers, streams and sinks share: typed settings, the error
hierarchy, the event envelope and serde, the topic catalog and the command-line entry point.
"""

__version__ = "0.1.0"
