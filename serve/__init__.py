"""``tracesync serve``: the HTTP query API and the web console over the trace store.

A roof package like :mod:`ops`: it may use the edges (the store and the exports); only the CLI
imports it.
"""
