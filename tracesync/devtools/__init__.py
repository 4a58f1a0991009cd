"""Developer and operator tooling: the simulated plant, the demo, the benchmark, the local
infrastructure runners (Kafka, registry, PostgreSQL), process supervision and the synthetic store
filler.

Tooling may import the runtime packages; the runtime packages never import tooling (a unit test
walks the imports and fails on it).
"""
