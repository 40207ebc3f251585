"""The leaf check of the deep trace against its references (bench/equivalents.py,
bench/versus.py): answers of other shapes holding the same values match; one value changed
is a mismatch that names it, and fails a smoke run."""

from __future__ import annotations

import orjson
import pytest

from bench.equivalents import leaves, mismatch
from bench.versus import Side, check_leaves

SERVICE = {
    "data": {
        "unit": {
            "sn": "SN-1",
            "currentStepNo": 20,
            "tracks": [
                {"id": "7", "inAt": "2026-03-02T07:15:03+00:00", "result": "PASS"},
                {"id": "8", "inAt": "2026-03-02T07:16:00.250000+00:00", "result": None},
            ],
            "values": [{"valueNumber": 1.5, "alarmed": False}],
        }
    }
}
# PostGraphile's shape: other names, connections, lists in another order, BigInt ids as
# numbers, an instant in another offset, an integer where the other says 20.0
REFERENCE = {
    "data": {
        "unitBySn": {
            "currentStepNo": 20.0,
            "sn": "SN-1",
            "tracksByUnitId": {
                "nodes": [
                    {"result": None, "inAt": "2026-03-02T09:16:00.25+02:00", "id": 8},
                    {"id": 7, "inAt": "2026-03-02T07:15:03Z", "result": "PASS"},
                ]
            },
            "dataValuesByTrackId": {"nodes": [{"alarmed": False, "valueNumber": 1.5}]},
        }
    }
}


def test_answers_of_other_shapes_with_the_same_values_match() -> None:
    assert leaves(SERVICE) == leaves(REFERENCE)
    assert leaves(SERVICE).total() == 10
    assert mismatch(leaves(SERVICE), leaves(REFERENCE), "PostGraphile") is None


def test_one_value_changed_is_a_mismatch_that_names_it() -> None:
    changed = orjson.loads(orjson.dumps(REFERENCE))
    changed["data"]["unitBySn"]["tracksByUnitId"]["nodes"][0]["inAt"] = "2026-03-02T07:16:01Z"
    problem = mismatch(leaves(SERVICE), leaves(changed), "PostGraphile")
    assert problem is not None
    assert "2026-03-02T07:16:00.250000+00:00" in problem and "2026-03-02T07:16:01+00:00" in problem
    # a boolean is not the number 0, nor null an empty string
    assert leaves({"a": False}) != leaves({"a": 0}) and leaves({"a": None}) != leaves({"a": ""})


async def _unused() -> bytes:
    raise AssertionError("not called")


def _no_shape(body: object) -> dict[str, int]:
    return {}


def test_a_mismatch_fails_a_smoke_run_and_is_reported_in_a_full_one() -> None:
    changed = orjson.loads(orjson.dumps(REFERENCE))
    changed["data"]["unitBySn"]["sn"] = "SN-2"
    sides = [Side("service", _unused, _no_shape), Side("postgraphile", _unused, _no_shape)]
    sides[0].last, sides[1].last = orjson.dumps(SERVICE), orjson.dumps(changed)
    with pytest.raises(SystemExit, match="leaf values differ"):
        check_leaves(sides, "deep trace", smoke=True)
    assert check_leaves(sides, "deep trace", smoke=False) == {
        "service": 10,
        "postgraphile": 10,
        "postgraphile_matches": False,
    }
    sides[1].last = orjson.dumps(REFERENCE)
    assert check_leaves(sides, "deep trace", smoke=True)["postgraphile_matches"] is True
