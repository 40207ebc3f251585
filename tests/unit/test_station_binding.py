"""The station binding of tokens (issue 14): one rule, many cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.enums import StationType
from domain.errors import DomainError, ErrorCode
from domain.master import Station
from domain.security import Scope, StationBinding, binding_of, new_token, station_refusal

AOI = Station("AOI-01", "AOI", StationType.AUTO, group_code="SMT-AOI")
AOI2 = Station("AOI-02", "AOI", StationType.AUTO, group_code="SMT-AOI")
ICT = Station("ICT-01", "ICT", StationType.TEST, group_code="ICT")
LOOSE = Station("REWORK-1", "Rework", StationType.MANUAL)  # in no group
SPI = Station("SPI-01", "SPI", StationType.AUTO, cfx_handle="Vendor1.SPI.Machine01")

BOTH = StationBinding.parse(["AOI-01", "ICT-01"])
GROUP = StationBinding.parse(["group:SMT-AOI"])


@pytest.mark.parametrize(
    ("binding", "code", "station", "allowed"),
    [
        (BOTH, "AOI-01", AOI, True),
        (BOTH, "ICT-01", ICT, True),
        (BOTH, "AOI-02", AOI2, False),
        (BOTH, "AOI-01", None, True),  # named: allowed, the use case says STATION_NOT_FOUND
        (BOTH, None, None, False),  # a bound token must name or imply its station
        (GROUP, "AOI-01", AOI, True),
        (GROUP, "AOI-02", AOI2, True),  # every station of the group, as master data says today
        (GROUP, "ICT-01", ICT, False),
        (GROUP, "SMT-AOI", None, False),  # a group's code is not a station
        (GROUP, "REWORK-1", LOOSE, False),  # a station in no group is in no binding's group
        (StationBinding(), "AOI-01", AOI, False),  # bound to nothing: a lost token's replay
        # issue 21: a binding names a station by its code or by its CFX handle
        (StationBinding.parse(["Vendor1.SPI.Machine01"]), "SPI-01", SPI, True),
        (StationBinding.parse(["SPI-01"]), "Vendor1.SPI.Machine01", SPI, True),
        (StationBinding.parse(["Vendor1.SPI.Machine01"]), "AOI-01", AOI, False),
        (StationBinding.parse(["SPI-01"]), "Vendor1.SPI.Machine01", None, False),
    ],
)
def test_a_binding_allows_its_stations_and_the_stations_of_its_groups(
    binding: StationBinding, code: str | None, station: Station | None, allowed: bool
) -> None:
    assert binding.allows(code, station) is allowed


def test_parse_reads_codes_and_groups_and_refuses_bad_codes() -> None:
    parsed = StationBinding.parse(["AOI-01", "group:SMT", "GROUP:ICT"])
    assert parsed == StationBinding(frozenset({"AOI-01"}), frozenset({"SMT", "ICT"}))
    assert parsed.entries() == {"AOI-01", "group:SMT", "group:ICT"}
    for bad in ("group:", " AOI", "AOI\x07", "x" * 101):
        with pytest.raises(DomainError) as err:
            StationBinding.parse([bad])
        assert err.value.code is ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize(
    ("scopes", "sources", "stations", "expected"),
    [
        ({Scope.READ}, set(), set(), None),  # neither sources nor stations: unbound
        ({Scope.EXECUTE}, set(), set(), None),
        ({Scope.ADMIN}, {"AOI-01"}, set(), None),  # admin writes for every station
        ({Scope.ADMIN, Scope.INGEST}, {"AOI-01"}, {"AOI-01"}, None),
        ({Scope.INGEST}, {"AOI-01"}, set(), StationBinding(frozenset({"AOI-01"}))),
        (
            {Scope.INGEST},
            {"GW-1"},
            {"AOI-01", "group:ICT"},
            StationBinding(frozenset({"AOI-01"}), frozenset({"ICT"})),
        ),
        ({Scope.EXECUTE}, set(), {"PACK-1"}, StationBinding(frozenset({"PACK-1"}))),
    ],
)
def test_which_tokens_are_bound(
    scopes: set[Scope], sources: set[str], stations: set[str], expected: StationBinding | None
) -> None:
    assert binding_of(frozenset(scopes), frozenset(sources), frozenset(stations)) == expected


def test_a_refusal_is_forbidden_and_names_the_station() -> None:
    assert station_refusal("t", [], "ANY", None) is None  # unbound
    assert station_refusal("t", [BOTH], "AOI-01", AOI) is None
    refused = station_refusal("t", [BOTH], "AOI-02", AOI2)
    assert refused is not None and refused.code is ErrorCode.FORBIDDEN
    assert refused.details == {"stationCode": "AOI-02"}
    unnamed = station_refusal("t", [BOTH], None, None)
    assert unnamed is not None and unnamed.code is ErrorCode.FORBIDDEN
    assert unnamed.details == {"stationCode": None, "field": "stationCode"}
    # a replay: the replayer's binding and the sender's must both allow it
    assert station_refusal("admin", [GROUP, BOTH], "AOI-01", AOI) is None
    assert station_refusal("admin", [GROUP, BOTH], "AOI-02", AOI2) is not None


def test_new_token_keeps_its_stations_and_refuses_them_on_admin() -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    token, _ = new_token("gw", ["ingest"], ["AOI-01"], now, ["AOI-01", "Group:ICT"])
    assert token.stations == {"AOI-01", "group:ICT"}
    assert token.binding == StationBinding(frozenset({"AOI-01"}), frozenset({"ICT"}))
    with pytest.raises(DomainError) as err:
        new_token("root", ["admin"], [], now, ["AOI-01"])
    assert err.value.details == {"field": "stations"}
