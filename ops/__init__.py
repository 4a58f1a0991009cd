"""SRE operations on a running pipeline, each one CLI command: replay a consumer group, rebuild
the trace store from the chain topic (and roll it back), verify the store against the topic,
re-drive dead letters.

This is the roof beside the CLI: it may import the edges (``producers``, ``streams``, ``sinks``)
and the core; nothing imports it but the CLI.
"""
