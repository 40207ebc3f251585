"""A unit's trace as in-memory sources for the served schema, and the hostile variants the fast
executor is compared over (tests/unit/test_fast_execution.py).

The query resolvers read through `info.context.loaders.<relation>.load(key)` and wrap what they
find with `<Type>.of`; `Loads` answers the loads from a dict and `identity_of` makes every `of`
return what it is given, so a source can hold anything: None where the schema promises a
value, a value of the wrong type, an attribute that raises or is awaitable. The pages (a run's
units, refusals, the audit trail) come from tests/unit/hostile_pages.py's Store."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from domain import enums as e
from graphql_api.types import master, runs_and_units, tracks
from tests.unit.hostile_pages import PAGE_UNITS, T0, audit_event, rejection

#: the types whose `of` the trace's resolvers call
WRAPPED = (
    runs_and_units.Unit,
    runs_and_units.Run,
    runs_and_units.WorkOrder,
    tracks.Track,
    tracks.IngestEvent,
    master.Station,
    master.StationGroup,
    master.Line,
    master.RouteVersion,
)


class Loader:
    def __init__(self, found: dict[Any, Any]):
        self.found = found

    async def load(self, key: Any) -> Any:
        return self.found.get(key)


class Loads:
    """Loaders answering from `data[relation][key]` (None when absent)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def __getattr__(self, relation: str) -> Loader:
        return Loader(self.data.get(relation, {}))


class Boom(Exception):
    pass


def source(raising: tuple[str, ...] = (), awaiting: tuple[str, ...] = (), **values: Any) -> Any:
    """An object with `values` as attributes; those in `raising` raise when read, those in
    `awaiting` are read as a coroutine of their value."""
    attributes: dict[str, Any] = {}
    for name in raising:

        def boom(self: Any, name: str = name) -> Any:
            raise Boom(f"cannot read {name}")

        attributes[name] = property(boom)
    for name in awaiting:
        value = values.pop(name)

        def read(self: Any, value: Any = value) -> Any:
            async def later() -> Any:
                return value

            return later()

        attributes[name] = property(read)
    return type("Source", (SimpleNamespace,), attributes)(**values)


def data_value(i: int, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "id": str(1000 + i),
        "spec_name": f"D{i:03d}",
        "data_type": e.DataType.NUMBER,
        "value_number": 1.0 + i / 10,
        "value_text": None,
        "value_boolean": None,
        "value_json": None,
        "value_unit": "V",
        "judge": e.Judge.PASS if i % 3 else e.Judge.FAIL,
        "alarmed": i % 4 == 0,
        "source": e.TrackSource.TEST,
        "collected_at": T0 + timedelta(seconds=i % 3),
    }
    return source(**{**values, **changes})


def track(i: int, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "id": str(10 + i),
        "step_no": 10 * (i + 1),
        "attempt": 1,
        "operation_code": f"OP{i}",
        "source": e.TrackSource.TEST,
        "in_at": T0,
        "out_at": T0 + timedelta(minutes=i),
        "result": e.TrackResult.PASS,
        "flag": None,
        "operator_id": None,
        "track_id": 10 + i,
        "unit_id": 1,
        "station_code": "ST-1" if i % 2 == 0 else "ST-2",
        "ingest_event_id": 100 + i,
        "carrier_track_id": None,
    }
    return source(**{**values, **changes})


def event(i: int, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "id": str(100 + i),
        "source_system": "TESTER",
        "dedupe_key": f"K-{i}",
        "event_type": e.IngestEventType.TEST,
        "occurred_at": T0,
        "received_at": T0 + timedelta(seconds=1),
        "run_no": "R-1",
        "step_no": 10 * (i + 1),
        "station_code": "ST-1",
        "line_code": None,
        "sn": "SN-1",
        "sn_list": ["SN-1"],
        "carrier_code": None,
        "test_result_id": None,
        "result": e.TrackResult.PASS,
        "documents": source(payload={"values": [1, 2]}, normalized=None),
        "event_id": 100 + i,
    }
    return source(**{**values, **changes})


def route_step(i: int, **changes: Any) -> Any:
    spec = source(
        name=f"D{i:03d}",
        data_type=e.DataType.NUMBER,
        method=e.CollectionMethod.AUTO,
        item_type=e.SpecItemType.KEY,
        trigger_type=e.TriggerType.EACH_UNIT,
        is_required=True,
        limits=source(min=0.0, max=10.0, unit="V"),
        alarm=None,
    )
    values: dict[str, Any] = {
        "step_no": 10 * (i + 1),
        "operation_code": f"OP{i}",
        "operation_name": f"Operation {i}",
        "station_type": e.StationType.TEST,
        "station_group_code": None,
        "allowed_station_codes": ["ST-1", "ST-2"],
        "requires_fai": False,
        "requires_authorization": False,
        "data_specs": [spec, spec],
        "ingest_mapping": None,
        "max_attempts": 3,
        "recipe": None,
        "on_late_key_fail": e.LateKeyFailAction.HOLD,
    }
    return source(**{**values, **changes})


def clean() -> dict[str, Any]:
    """A unit with three tracks (of three values each), its run, route version and events."""
    unit = source(
        sn="SN-1",
        status=e.UnitStatus.QUEUED,
        current_step_no=20,
        wo_no="WO-1",
        run_no="R-1",
        unit_id=1,
        id=1,
    )
    route = source(
        code="RT-1", name="Route", source_system="ERP", source_key=None, product_code="P-1"
    )
    version = source(
        id="7",
        version_no=1,
        status=e.RouteVersionStatus.READY,
        compiled_at=T0,
        route=route,
        steps=[route_step(i) for i in range(3)],
        errors=[source(step_no=None, code="W", message="warning")],
        max_reworks=3,
    )
    return {
        "unit": {"SN-1": unit},
        "units_of_run": [unit] * PAGE_UNITS,
        "unit_count_of_run": {"R-1": PAGE_UNITS},
        "rejections_page": [rejection(i) for i in range(40)],
        "audit_page": [audit_event(i) for i in range(40)],
        "run": {
            "R-1": source(
                run_no="R-1",
                status=e.RunStatus.IN_PROGRESS,
                plan_qty=10,
                shift_code=None,
                created_at=T0,
                wo_no="WO-1",
                line_code=None,
                route_version_id=7,
            )
        },
        "route_version": {7: version},
        "work_order": {
            "WO-1": source(
                wo_no="WO-1",
                product_code="P-1",
                planned_qty=10,
                status=e.WorkOrderStatus.RELEASED,
                routing_code="RT-1",
                due_date=None,
            )
        },
        "tracks_of_unit": {1: [track(i) for i in range(3)]},
        "station": {
            code: source(
                code=code,
                name=f"Station {code}",
                station_type=e.StationType.TEST,
                line_code=None,
                group_code="G-1",
            )
            for code in ("ST-1", "ST-2")
        },
        "station_group": {"G-1": source(code="G-1", name="Group")},
        "values_of_track": {10 + i: [data_value(3 * i + j) for j in range(3)] for i in range(3)},
        "event": {100 + i: event(i) for i in range(3)},
        "events_of_unit": {1: [event(i) for i in range(3)]},
        "value_count_of_event": {100 + i: 3 for i in range(3)},
    }


class OwnZone(datetime):
    """A datetime subclass that keeps its zone when asked for UTC: equal to the UTC instant,
    serialized otherwise (a per-request cache of serializations must not merge the two)."""

    def astimezone(self, tz: Any = None) -> OwnZone:
        return self


def _values(data: dict[str, Any], index: int = 0) -> list[Any]:
    found: list[Any] = data["values_of_track"][10 + index]
    return found


def _tracks(data: dict[str, Any]) -> list[Any]:
    found: list[Any] = data["tracks_of_unit"][1]
    return found


def _set(obj: Any, **values: Any) -> Any:
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


def _gen(items: list[Any]) -> Iterator[Any]:
    yield from items


def _hostile() -> dict[str, Callable[[dict[str, Any]], object]]:
    return {
        "clean": lambda d: None,
        "none on a non-null leaf": lambda d: _set(_tracks(d)[1], operation_code=None),
        "none on a non-null value in a list": lambda d: _set(_values(d, 1)[2], spec_name=None),
        "none as a non-null list item": lambda d: _values(d, 2).insert(1, None),
        "none on the unit's non-null sn": lambda d: _set(d["unit"]["SN-1"], sn=None),
        "ints of other types": lambda d: _set(
            _tracks(d)[0], step_no="70", attempt=2.0, track_id=10
        ),
        "an int out of 32 bits": lambda d: _set(d["run"]["R-1"], plan_qty=2**40),
        "an int that is a bool": lambda d: _set(d["unit"]["SN-1"], current_step_no=True),
        "floats of other types": lambda d: [
            _set(v, value_number=n) for v, n in zip(_values(d), ("1.5", 3, True), strict=True)
        ],
        "a float that is not finite": lambda d: _set(_values(d)[1], value_number=math.nan),
        "strings of other types": lambda d: [
            _set(_values(d)[0], value_text=12, value_unit=1.5),
            _set(_values(d)[1], value_text=False, spec_name=b"bytes"),
        ],
        "an id that is an int": lambda d: _set(_tracks(d)[0], id=5),
        "booleans of other types": lambda d: _set(_values(d)[0], alarmed=1, value_boolean=0.0),
        "an enum as its name": lambda d: _set(d["unit"]["SN-1"], status="QUEUED"),
        "an enum as an unknown string": lambda d: _set(_tracks(d)[2], result="NOPE"),
        "an enum of another type": lambda d: _set(_values(d)[0], judge=e.TrackResult.PASS),
        "a nullable enum of another type": lambda d: _set(_tracks(d)[0], result=e.Judge.FAIL),
        "datetimes in other zones": lambda d: [
            _set(_tracks(d)[0], in_at=T0.astimezone(timezone(timedelta(hours=2)))),
            _set(_tracks(d)[1], in_at=T0.replace(tzinfo=None)),
            _set(_values(d)[0], collected_at=T0.replace(microsecond=5)),
        ],
        "datetimes of other types": lambda d: [
            _set(_tracks(d)[0], out_at="2026-12-01T08:00:00Z"),
            _set(_tracks(d)[1], out_at=date(2026, 12, 1)),
        ],
        "a null non-null datetime": lambda d: _set(_values(d)[1], collected_at=None),
        "a datetime subclass equal to a UTC one": lambda d: [
            _set(
                _tracks(d)[1], in_at=OwnZone(2026, 12, 1, 10, tzinfo=timezone(timedelta(hours=2)))
            ),
            _set(_values(d, 1)[2], collected_at=OwnZone(2026, 12, 1, 8, tzinfo=UTC)),
        ],
        "an attribute that raises": lambda d: _tracks(d).__setitem__(
            0, track(0, raising=("attempt",))
        ),
        "a non-null attribute that raises": lambda d: d["values_of_track"][10].__setitem__(
            1, data_value(1, raising=("spec_name",))
        ),
        "a missing attribute": lambda d: delattr(d["station"]["ST-2"], "name"),
        "an exception as a value": lambda d: _set(_values(d)[0], value_text=ValueError("v")),
        "an awaitable attribute": lambda d: _tracks(d).__setitem__(
            2, track(2, awaiting=("operator_id", "step_no"), operator_id="op")
        ),
        "lists of other kinds": lambda d: [
            d["values_of_track"].__setitem__(10, tuple(_values(d))),
            d["values_of_track"].__setitem__(11, _gen(_values(d, 1))),
            _set(d["route_version"][7], steps=tuple(d["route_version"][7].steps)),
        ],
        "lists with wrong items": lambda d: [
            _set(d["route_version"][7].steps[0], allowed_station_codes=["ST-1", 3, None]),
            d["events_of_unit"][1][0].__setattr__("sn_list", "abc"),
            d["events_of_unit"][1][1].__setattr__("sn_list", 5),
            d["events_of_unit"][1][2].__setattr__("sn_list", [None, "x"]),
        ],
        "a non-null object that is null": lambda d: _set(d["route_version"][7], route=None),
        "objects of other kinds": lambda d: [
            d["station_group"].__setitem__("G-1", {"code": "G-1", "name": "Group"}),
            _set(d["route_version"][7], route="not an object"),
        ],
        "a non-null list item of objects that is null": lambda d: d["route_version"][
            7
        ].steps.append(None),
        "a listing's non-null leaf that is null": lambda d: d["rejections_page"].__setitem__(
            2, rejection(2, source_system=None)
        ),
        "listings with values of other types": lambda d: [
            d["rejections_page"].__setitem__(3, rejection(3, attempts="3", input=math.inf)),
            d["rejections_page"].__setitem__(4, rejection(4, occurred_at=T0.replace(tzinfo=None))),
            d["audit_page"].__setitem__(5, audit_event(5, entity_key=5, details={"x": math.nan})),
            d["audit_page"].__setitem__(6, audit_event(6, error_code=False, client_request_id=7.5)),
        ],
    }


HOSTILE = _hostile()


def case(name: str) -> dict[str, Any]:
    """The clean data with one hostile change."""
    data = clean()
    HOSTILE[name](data)
    return data
