"""GS1 Digital Link URIs and element strings, EPC URNs, and the EPCIS event hash (no I/O)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracesync.errors import ConfigurationError
from tracesync.gs1.digital_link import Gs1SyntaxError, looks_like_gs1, parse_gs1
from tracesync.gs1.epc_urn import constrain_digital_link, epc_urn_to_digital_link
from tracesync.gs1.epcis_hash import context_prefixes, event_hash, utc_millis
from tracesync.gs1.identifiers import Identifiers, MasterData

GTIN = "09506000134352"  # GS1's example GTIN
REFERENCE = Path(__file__).parent / "data" / "epcis_hash_reference.json"


@pytest.mark.parametrize(
    "text",
    [
        f"https://id.gs1.org/01/{GTIN}/10/AB-12/21/0001",
        f"https://brand.example.com/products/01/{GTIN}/10/AB-12/21/0001?17=261231",
        f"(01){GTIN}(10)AB-12(21)0001",
        f"]d201{GTIN}10AB-12\x1d210001",
        f"https://id.gs1.org/01/{GTIN[1:]}/10/AB-12/21/0001",  # GTIN-13 in the path
    ],
)
def test_a_unit_code_parses_to_its_gtin_lot_and_serial(text: str) -> None:
    code = parse_gs1(text)
    assert (code.gtin, code.lot, code.serial) == (GTIN, "AB-12", "0001")
    assert looks_like_gs1(text)
    assert code.digital_link(constrained=True) == f"https://id.gs1.org/01/{GTIN}/21/0001"
    assert code.element_string().startswith(f"(01){GTIN}(10)AB-12(21)0001")


def test_attributes_of_the_query_stay_and_the_canonical_forms_are_stable() -> None:
    code = parse_gs1(f"https://x.example/01/{GTIN}/10/L%2F7?17=261231&linkType=gs1:pip")
    assert code.lot == "L/7" and code.get("17") == "261231"
    assert code.digital_link() == f"https://id.gs1.org/01/{GTIN}/10/L%2F7?17=261231"
    assert parse_gs1(code.element_string()) == code


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (f"https://id.gs1.org/01/{GTIN[:-1]}3/10/A", "check digit 3, expected 2"),
        (f"(01){GTIN[:-1]}(10)A", "(01) GTIN takes 14 digits"),
        (f"https://id.gs1.org/01/{GTIN}/21/S/10/L", "order 22/10/21"),
        (f"https://id.gs1.org/01/{GTIN}/10", "without its value"),
        (f"(01){GTIN}(10)A B", "contains ' '"),
        (f"(01){GTIN}(10){'X' * 21}", "at most 20 characters"),
        ("(10)LOT-1", "no GS1 key"),
        (f"(01){GTIN}(99)x", "unknown or unsupported application identifier (99)"),
        (f"(01){GTIN}(10)A(10)B", "(10) appears twice"),
        ("https://id.gs1.org/414/9506000134353/10/X", "/10/ cannot qualify /414/"),
        ("ftp://id.gs1.org/01/1", "starts with https://"),
        (f"(01){GTIN}junk", "(01) GTIN takes 14 digits"),
        ("(01", "expected (AI)value pairs"),
    ],
)
def test_a_malformed_code_gets_an_error_naming_what_is_wrong(text: str, names: str) -> None:
    with pytest.raises(Gs1SyntaxError) as caught:
        parse_gs1(text)
    assert names in str(caught.value)


def test_plain_trace_codes_are_not_taken_for_gs1_codes() -> None:
    assert not looks_like_gs1("TC-B-000123-0001")
    assert not looks_like_gs1("https://example.com/about")
    assert looks_like_gs1(f"https://example.com/01/{GTIN}")


def test_epc_urns_become_canonical_digital_links() -> None:
    assert epc_urn_to_digital_link("urn:epc:id:sgtin:0614141.107346.2017") == (
        "https://id.gs1.org/01/10614141073464/21/2017"
    )
    assert epc_urn_to_digital_link("urn:epc:class:lgtin:4012345.011111.4444") == (
        "https://id.gs1.org/01/04012345111118/10/4444"
    )
    assert epc_urn_to_digital_link("urn:epc:id:sgln:0614141.07346.1234") == (
        "https://id.gs1.org/414/0614141073467/254/1234"
    )
    assert epc_urn_to_digital_link("urn:epc:id:sscc:4012345.0000000333") == (
        "https://id.gs1.org/00/040123450000003338"
    )
    assert epc_urn_to_digital_link("urn:tracesync:lot:x:y") is None
    assert constrain_digital_link(f"https://a.example/01/{GTIN}/10/L/21/S?x=1") == (
        f"https://id.gs1.org/01/{GTIN}/21/S"
    )


def test_identifiers_go_out_and_come_back() -> None:
    gln = "9506000000015"
    ids = Identifiers(MasterData.from_file(None, gtins={"P-1": GTIN}, glns={"PLANT": gln}))
    lot = ids.lot_class("P-1", "B-7")
    assert lot == f"https://id.gs1.org/01/{GTIN}/10/B-7"
    assert ids.parse_lot_class(lot).item == "P-1"
    assert ids.parse_unit(ids.unit("P-1", "TC-1")) == "TC-1"
    assert ids.parse_place(ids.location("PLANT", "L1")) == ("PLANT", "L1")
    plain = Identifiers()
    assert plain.parse_lot_class(plain.lot_class("RM:1", "L:2")).lot == "L:2"
    assert plain.parse_unit(plain.unit(None, "odd code/1")) == "odd code/1"


def test_master_data_with_a_bad_gtin_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="check digit"):
        MasterData.from_file(None, gtins={"P": GTIN[:-1] + "9"})


def test_event_hashes_equal_the_gs1_reference_implementation() -> None:
    cases = json.loads(REFERENCE.read_text())["cases"]
    assert len(cases) >= 10
    for case in cases:
        got = event_hash(case["event"], context_prefixes(case["context"]))
        assert got == case["hash"], case["source"]


def test_a_changed_event_gets_another_hash_and_key_order_does_not_matter() -> None:
    event = json.loads(REFERENCE.read_text())["cases"][0]["event"]
    reordered = dict(reversed(list(event.items())))
    assert event_hash(reordered) == event_hash(event)
    assert event_hash(event | {"bizStep": "receiving"}) != event_hash(event)


def test_times_are_utc_milliseconds_rounded() -> None:
    assert utc_millis("2023-01-18T11:04:03.1415+01:00") == "2023-01-18T10:04:03.142Z"
    assert utc_millis("2023-01-18T11:04:03Z") == "2023-01-18T11:04:03.000Z"
