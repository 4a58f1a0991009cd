"""REST ingest: source systems push events over HTTP; ``202`` only once the broker has them.

``POST /v1/{system}/events`` takes one Envelope as JSON, ``POST /v1/{system}/events/batch`` a JSON
array of them (or ``{"events": [...]}``). Each request carries the API key of one source system in
``X-API-Key``; a key may publish only its own system's events. Every event is validated against the
Avro Envelope (:mod:`tracesync.contracts.serde`), encoded, and published through the producer core
to its system's source topic, keyed by batch code. The response is sent after the broker
acknowledged the events; bad events get a 4xx body naming each offending field path and the reason.

Modules: ``app`` (the application factory), ``routes`` (the endpoints), ``events`` (prepare and
publish one event), ``auth`` (API keys), ``limits`` (body and batch limits), ``problems``
(refused requests and their answers), ``bodies`` (response models), ``openapi`` (request bodies
derived from ``avro/``).
"""

from producers.rest.app import create_app
from producers.rest.events import Prepared, Rejected, RestIngest
from producers.rest.systems import SourceSystem

__all__ = ["Prepared", "Rejected", "RestIngest", "SourceSystem", "create_app"]
