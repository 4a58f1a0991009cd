"""The pure domain of tracesync: events, the trace chain, and the rules that act on it.

Nothing here imports faust, Kafka or a database. Everything is frozen dataclasses and functions:
the merge ``(chain, event) -> chain``, the derived view of a chain, hold propagation over the
genealogy, reconciliation across systems and the alerts raised by a change.
"""
