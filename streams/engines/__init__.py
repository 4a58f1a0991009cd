"""Stream engines: adapters that run :mod:`streams.processor` on a Kafka stream framework.

Each engine decodes records, hands buffers of them to the pure processor, stores the state it
returns, and sends its outputs (:mod:`streams.engines.base`). ``quix`` (Quix Streams) is the
default, ``faust`` (faust-streaming) the second; both pass one contract suite.
"""

from __future__ import annotations

ENGINES = ("quix", "faust")
