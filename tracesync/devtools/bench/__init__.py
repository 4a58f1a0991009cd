"""``tracesync bench``: how fast the whole pipeline is on this machine, measured, never asserted.

One run reports, as one JSON document: sustained end-to-end throughput (events from the source
topics into the trace store), end-to-end latency percentiles at a steady offered rate, the peak
memory of each component, and the raw ceiling of the same machine (confluent-kafka producing and
consuming the same records with no processing) with the ratio of the two.
"""
