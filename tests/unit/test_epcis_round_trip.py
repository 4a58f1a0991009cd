"""An exported EPCIS document, captured back, gives the same chain facts (no I/O).

The simulated plant goes through the domain into stored chains, out as an EPCIS document, back
in through :mod:`producers.epcis` and the Avro serde (as the REST capture does), and through the
domain again. Production, parameters, consumptions, inspections, own holds, material receipts and
shipments must come back equal; with GS1 master data (Digital Link identifiers) and without
(private URNs).
"""

from __future__ import annotations

import copy

import pytest

from producers.epcis import EpcisDocumentError, Mapped, Unmapped, map_document
from sinks.exports.epcis import EpcisBuilder, build_document
from tests.unit.epcis_plant import chains_from_envelopes, facts, stored_plant
from tracesync.gs1.digital_link import check_digit
from tracesync.gs1.identifiers import Identifiers, MasterData


def _ids(with_gs1: bool, stored: list) -> Identifiers:  # type: ignore[type-arg]
    if not with_gs1:
        return Identifiers()
    products = sorted({c.chain["production"]["product_code"] for c in stored} - {None})
    gtins = {p: _gtin(n) for n, p in enumerate(products)}
    glns = {"PLANT-01": _with_check("950600000001")}
    return Identifiers(MasterData.from_file(None, gtins=gtins, glns=glns))


def _gtin(n: int) -> str:
    return _with_check(f"0950600{n:06d}")


def _with_check(raw: str) -> str:
    return raw + check_digit(raw)


@pytest.mark.parametrize("with_gs1", [False, True], ids=["private-urns", "digital-link"])
def test_an_exported_document_captured_back_gives_the_same_facts(with_gs1: bool) -> None:
    stored = stored_plant()
    ids = _ids(with_gs1, stored)
    builder = EpcisBuilder(ids)
    document = build_document(e for chain in stored for e in builder.events(chain))
    outcomes = map_document(document, ids, plant="ELSEWHERE")
    assert not [o for o in outcomes if isinstance(o, Unmapped)]
    envelopes = [env for o in outcomes if isinstance(o, Mapped) for env in o.envelopes]
    captured = chains_from_envelopes(envelopes)
    original = {c.batch_code: c.chain for c in stored}
    exported = {c for c, chain in original.items() if builder.events(_by_code(stored, c))}
    assert set(captured) == exported
    for code in sorted(exported):
        assert facts(captured[code]) == facts(original[code]), code
    kinds = {env["event_type"] for env in envelopes}
    assert {"BATCH_COMPLETED", "MATERIAL_CONSUMED", "SHIPMENT_DISPATCHED"} <= kinds
    assert {"MATERIAL_RECEIPT_POSTED", "INSPECTION_RECORDED", "HOLD_PLACED"} <= kinds


def _by_code(stored: list, code: str):  # type: ignore[no-untyped-def,type-arg]
    return next(c for c in stored if c.batch_code == code)


def test_capturing_twice_gives_the_same_envelopes() -> None:
    stored = stored_plant(batches=10)
    ids = Identifiers()
    builder = EpcisBuilder(ids)
    document = build_document(e for chain in stored for e in builder.events(chain))
    first = map_document(document, ids, plant="PLANT-01")
    again = map_document(copy.deepcopy(document), ids, plant="PLANT-01")
    assert first == again


def test_an_event_that_cannot_be_mapped_names_its_field_and_the_rest_still_map() -> None:
    stored = stored_plant(batches=10)
    ids = Identifiers()
    builder = EpcisBuilder(ids)
    events = [e for chain in stored for e in builder.events(chain)]
    broken = copy.deepcopy(events[0])
    broken["quantityList"] = [{"epcClass": "https://id.gs1.org/01/09506000134353/10/X"}]
    broken["type"] = "ObjectEvent"
    broken["bizStep"] = "shipping"
    unknown = {"type": "AssociationEvent", "eventTime": "2026-01-01T00:00:00Z"}
    document = build_document([broken, unknown, *events[1:]])
    outcomes = map_document(document, ids, plant="PLANT-01")
    assert isinstance(outcomes[0], Unmapped)
    (field, _reason), *_ = outcomes[0].problems
    assert field.startswith("epcisBody.eventList[0].")
    assert isinstance(outcomes[1], Unmapped)
    assert outcomes[1].problems[0][0] == "epcisBody.eventList[1].type"
    assert all(isinstance(o, Mapped) for o in outcomes[2:])


def test_a_body_that_is_no_epcis_document_is_refused_with_the_field() -> None:
    with pytest.raises(EpcisDocumentError) as caught:
        map_document({"type": "EPCISQueryDocument"}, Identifiers(), plant="P")
    assert caught.value.problems[0][0] == "type"
    with pytest.raises(EpcisDocumentError) as caught:
        map_document({"type": "EPCISDocument", "epcisBody": {}}, Identifiers(), plant="P")
    assert caught.value.problems[0][0] == "epcisBody.eventList"
