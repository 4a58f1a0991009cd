"""The Avro contract: schemas of ``avro/``, their compatibility rules, the registry client and the
serdes that put envelopes and the pipeline's own records on the wire.

Runtime packages (``producers``, ``streams``, ``sinks``) import from here; nothing here imports
them or the developer tooling.
"""
