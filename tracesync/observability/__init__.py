"""Observability of the long-running components: Prometheus metrics, health and JSON logs.

One module per concern: :mod:`~tracesync.observability.metrics` defines every metric (one
registry per process), :mod:`~tracesync.observability.kafka_stats` turns librdkafka statistics
into consumer lag and group state, :mod:`~tracesync.observability.health` holds the liveness and
readiness checks, :mod:`~tracesync.observability.server` serves ``/metrics``, ``/healthz`` and
``/readyz`` for the components without an HTTP server of their own, and
:mod:`~tracesync.observability.asgi` mounts the same on a FastAPI application with request
metrics. :mod:`~tracesync.observability.runtime` bundles them for a composition root;
:mod:`~tracesync.observability.logs` formats JSON logs. Domain code never imports any of this.
"""
