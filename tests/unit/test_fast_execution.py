"""The fast executor (graphql_api/fast_execution.py) against Strawberry's default one: the same
queries over the same hostile data, through the served schema with its extensions, answer the
same bytes — data, errors (messages, paths, locations, codes) and the unexpected errors' own
messages (logged before they are masked) — for queries, large pages and a subscription's
events."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Annotated, Any

import orjson
import pytest
import strawberry

from bench.trace import TRACE
from domain.actors import Actor
from domain.changes import Change, UnitsChanged
from domain.limits import Limits
from domain.security import UNRESTRICTED
from graphql_api import errors, execution_pins, execution_specs, subscriptions
from graphql_api.context import Context
from graphql_api.execution_pins import PINNED, version_mismatches
from graphql_api.fast_execution import FastExecutionContext
from graphql_api.schema import build_schema
from tests.unit.hostile_pages import Store
from tests.unit.hostile_trace import HOSTILE, T0, WRAPPED, Loads, case

# graphql-core (3.3.2, pinned) drops a sibling field's resolver coroutine unstarted when a
# non-null error bubbles past it, in both executors (checked: the default one does it in the
# same cases); Python reports it when the coroutine is collected. (An event's payload is
# such a resolver: it is read on demand.)
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <coroutine object GraphQLCoreConverter.from_resolver"
    ":pytest.PytestUnraisableExceptionWarning"
)

FAST = build_schema()
DEFAULT = build_schema(fast_execution=False)

SHAPES = """query($sn: String!, $yes: Boolean!, $no: Boolean!) {
  u: unit(sn: $sn) { __typename serial: sn sn status
    t1: tracks { __typename id stepNo @include(if: $yes) result @skip(if: $yes) inAt
      values: dataValues { specName judge collectedAt @skip(if: $no) v: valueNumber }
      dataValues { specName valueText } }
    tracks { id operationCode outAt } }
  missing: unit(sn: "NONE") { sn } }"""

FRAGMENTS = """query($sn: String!) {
  unit(sn: $sn) { ...U run { ... on Run { runNo planQty routeVersion { ...V } } } } }
fragment U on Unit { sn currentStepNo
  tracks { ...T ... on Track { station { ...S } ingestEvent { ...E } } }
  ingestEvents { ...E dataValueCount } workOrder { woNo plannedQty status dueDate } }
fragment T on Track { id stepNo attempt operatorId flag
  dataValues { ... { valueNumber valueText valueBoolean valueJson alarmed } id } }
fragment S on Station { __typename code name stationType group { code name } }
fragment E on IngestEvent { id eventType occurredAt snList payload normalized result stepNo }
fragment V on RouteVersion { id versionNo status compiledAt maxReworks
  route { code name sourceSystem sourceKey productCode }
  steps { stepNo operationCode stationType allowedStationCodes requiresFAI maxAttempts recipe
    onLateKeyFail ingestMapping dataSpecs { name dataType isRequired limits { min max unit } } }
  errors { stepNo code message } }"""

#: large pages: a run's units with their tracks, refusals and the audit trail
PAGE = """query($first: Int!) {
  run(runNo: "R-1") { runNo units(first: $first) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { sn status currentStepNo
      tracks { id stepNo attempt operationCode source result inAt outAt operatorId } } } }
  } }"""
LISTINGS = """query($first: Int!) {
  ingestRejections(first: $first) { pageInfo { hasNextPage endCursor } edges { cursor node {
    id sourceSystem dedupeKey eventType occurredAt receivedAt lastAttemptAt attempts replayable
    sns input error { code message details } resolvedBy { id dedupeKey } } } }
  auditEvents(first: $first) { edges { node { id at actor requestId action entityType entityKey
    outcome errorCode details clientRequestId } } } }"""

QUERIES = {
    "trace": TRACE,
    "shapes": SHAPES,
    "fragments": FRAGMENTS,
    "page": PAGE,
    "listings": LISTINGS,
}
VARIABLES = {"sn": "SN-1", "yes": True, "no": False, "first": 500}


class Recorder:
    """Stands for errors.log: what ErrorMasking logs of each unexpected error before it masks
    its message."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def _record(self, event: str, **fields: Any) -> None:
        exc_info = fields.pop("exc_info", None)
        if exc_info is not None:
            fields["error"] = f"{exc_info[0].__name__}: {exc_info[1]}"
        self.seen.append([event, fields])

    error = warning = _record


@pytest.fixture(scope="module", autouse=True)
def dropped_coroutines_collected_here() -> Iterator[None]:
    """The coroutines graphql-core drops (above) are collected before this module ends, where
    the warning is expected, not in whichever test the collector next runs."""
    yield
    gc.collect()


@pytest.fixture(scope="module", autouse=True)
def sources_as_they_are() -> Iterator[None]:
    """Each `Type.of` returns what it is given: the resolvers pass the hostile sources on."""
    with pytest.MonkeyPatch.context() as patch:
        for type_ in WRAPPED:
            patch.setattr(type_, "of", classmethod(lambda cls, found: found))
        yield


def context_of(data: dict[str, Any], patch: Any, **live: Any) -> tuple[Context, Recorder]:
    """A request's context over `data`, and what its unexpected errors log."""
    recorder = Recorder()
    patch.setattr(errors, "log", recorder)
    context = Context(
        actor=Actor(name="differential", request_id="diff-1"),
        bus=None,  # type: ignore[arg-type]
        store=Store(data),  # type: ignore[arg-type]
        loaders=Loads(data),  # type: ignore[arg-type]
        limits=Limits(),
        ingest=None,  # type: ignore[arg-type]
        principal=UNRESTRICTED,
        **live,
    )
    return context, recorder


def _dumped(results: list[Any], recorder: Recorder) -> bytes:
    answers = [[r.data, [error.formatted for error in r.errors or []]] for r in results]
    return orjson.dumps({"answers": answers, "logged": recorder.seen}, default=repr)


async def answer(schema: Any, query: str, data: dict[str, Any], patch: Any) -> bytes:
    context, recorder = context_of(data, patch)
    result = await schema.execute(query, variable_values=VARIABLES, context_value=context)
    return _dumped([result], recorder)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("hostile", HOSTILE)
async def test_the_fast_executor_answers_what_the_default_one_does(
    query: str, hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = await answer(DEFAULT, QUERIES[query], case(hostile), monkeypatch)
    got = await answer(FAST, QUERIES[query], case(hostile), monkeypatch)
    assert got == expected
    if hostile == "clean":
        assert b"[]]]" in got and (b'"tracks":[{' in got or b'"edges":[{' in got)


async def test_each_hostile_case_changes_an_answer_of_the_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A case that changed nothing would test nothing (its data would be the clean one) —
    but an enum given as its name is served as that name (the enums are StrEnums)."""

    async def answers(name: str) -> list[bytes]:
        return [await answer(FAST, q, case(name), monkeypatch) for q in QUERIES.values()]

    clean = await answers("clean")
    same = [n for n in HOSTILE if n != "clean" and await answers(n) == clean]
    assert same == ["an enum as its name"]


async def test_the_comparison_sees_a_wrong_fast_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """The differential test is only as good as its reach: a fast path that returned a wrong
    value (here: enum tables that serialize each member in lower case) fails it."""
    expected = await answer(DEFAULT, TRACE, case("clean"), monkeypatch)
    assert await answer(FAST, TRACE, case("clean"), monkeypatch) == expected
    planned = execution_specs.enum_table

    def lower_case(enum_type: Any) -> dict[Any, str]:
        return {member: name.lower() for member, name in planned(enum_type).items()}

    monkeypatch.setattr(execution_specs, "SPECS", {})  # the specs built again, with the tables
    monkeypatch.setattr(execution_specs, "enum_table", lower_case)
    wrong = await answer(FAST, TRACE, case("clean"), monkeypatch)
    assert wrong != expected and wrong == expected.replace(b'"PASS"', b'"pass"').replace(
        b'"FAIL"', b'"fail"'
    ).replace(b'"TEST"', b'"test"').replace(b'"QUEUED"', b'"queued"').replace(
        b'"IN_PROGRESS"', b'"in_progress"'
    ).replace(b'"READY"', b'"ready"').replace(b'"NUMBER"', b'"number"')
    # the pages and the subscriptions answer through the same fast path
    for query in (PAGE, LISTINGS):
        right = await answer(DEFAULT, query, case("clean"), monkeypatch)
        assert await answer(FAST, query, case("clean"), monkeypatch) != right
    right = await streamed(DEFAULT, case("clean"), monkeypatch)
    assert await streamed(FAST, case("clean"), monkeypatch) != right


# -- subscriptions: graphql-core runs each event on a copy of the subscription's executor ------

LIVE = """subscription($sn: String!) { unitUpdated(sn: $sn) { __typename sn status currentStepNo
  tracks { id stepNo result inAt outAt dataValues { specName valueNumber judge collectedAt } }
  run { runNo status } workOrder { woNo } } }"""
EVENTS = 3


class Stream:
    """One subscriber's changes: these, then none (a subscription ends when its client goes)."""

    def __init__(self, changes: list[Change]):
        self.changes = changes

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Change:
        if not self.changes:
            await asyncio.Event().wait()
        return self.changes.pop(0)

    def close(self) -> None:
        pass


class Feed:
    """Every subscriber sees another unit's change, then EVENTS changes of SN-1."""

    async def subscribe(self, max_queue: int, on_overflow: Any = None) -> Stream:
        return Stream([UnitsChanged(("SN-2",)), *[UnitsChanged(("SN-1",))] * EVENTS])


async def streamed(schema: Any, data: dict[str, Any], patch: Any) -> bytes:
    """The first EVENTS answers of unitUpdated, then the client leaves."""
    context, recorder = context_of(data, patch, feed=Feed(), connection=object())
    patch.setattr(subscriptions, "Loaders", lambda store: Loads(data))  # the event's reads
    stream = await schema.subscribe(LIVE, variable_values={"sn": "SN-1"}, context_value=context)
    async with aclosing(stream):
        results = [await anext(stream) for _ in range(EVENTS)]
    return _dumped(results, recorder)


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_a_subscription_streams_what_the_default_executor_does(
    hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = await streamed(DEFAULT, case(hostile), monkeypatch)
    got = await streamed(FAST, case(hostile), monkeypatch)
    assert got == expected
    if hostile == "clean":
        assert got.count(b'"tracks":[{') == EVENTS and got.count(b"[]]") == EVENTS


@strawberry.type
class Tick:
    at: datetime
    n: int


@strawberry.type
class Clock:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[list[Tick], None]:
        for i in range(EVENTS):
            yield [Tick(at=T0 + timedelta(seconds=i), n=i), Tick(at=T0, n=-i)]


async def test_each_subscription_event_plans_afresh() -> None:
    """A subscription's executor keeps nothing of its events: each plans (and serializes its
    datetimes) on its own, else a subscription open for days would keep every datetime it
    ever sent."""
    built: list[FastExecutionContext] = []

    class Recording(FastExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    answers = []
    for executor in (None, Recording):
        schema = strawberry.Schema(
            query=PetQuery, subscription=Clock, execution_context_class=executor
        )
        stream = await schema.subscribe("subscription { ticks { at n } }")
        answers.append([(r.data, r.errors) async for r in stream])
    assert answers[1] == answers[0] and len(answers[0]) == EVENTS
    [subscription] = built
    assert subscription._plans == {} and subscription._serialized == {}


# -- abstract types: the served schema has none, the executor must still hand them over -------


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Cat(Named):
    lives: int


@strawberry.type
class Dog(Named):
    good: bool


@strawberry.type
class Bird:
    wings: int


Pet = Annotated[Cat | Dog | Bird, strawberry.union("Pet")]


@strawberry.type
class PetQuery:
    named: list[Named | None]
    pets: list[Pet]
    first: Named


PETS = "{ named { __typename name ... on Cat { lives } ... on Dog { good } } "
PETS += "pets { __typename ... on Named { name } ... on Bird { wings } } first { name } }"


@pytest.mark.parametrize(
    "pets",
    [
        [Cat(name="Tom", lives=9), Dog(name="Rex", good=True), Bird(wings=2)],
        [Cat(name="Tom", lives="nine"), Bird(wings=None), None, "a string"],  # type: ignore[arg-type]
    ],
)
async def test_abstract_types_answer_the_same(pets: list[Any]) -> None:
    root = PetQuery(named=[p for p in pets if not isinstance(p, Bird)], pets=pets, first=pets[0])
    results = []
    for executor in (None, FastExecutionContext):
        schema = strawberry.Schema(query=PetQuery, execution_context_class=executor)
        result = await schema.execute(PETS, root_value=root)
        results.append(
            orjson.dumps([result.data, [e.formatted for e in result.errors or []]], default=repr)
        )
    assert results[0] == results[1]


# -- the versions it was written against --------------------------------------------------------


def test_the_installed_graphql_core_and_strawberry_are_the_pinned_ones() -> None:
    """The executor relies on internals of graphql-core's Executor and of Strawberry's plain
    fields. An upgrade must be checked against it (this file) and PINNED updated with it."""
    assert version_mismatches() == [], "; ".join(version_mismatches())


def test_pyproject_pins_the_same_versions() -> None:
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    for name, pin in PINNED.items():
        assert f'"{name}=={pin}"' in pyproject, f"pyproject.toml must pin {name}=={pin}"


def test_a_schema_on_other_versions_refuses_to_build_with_the_fast_executor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(execution_pins.PINNED, "graphql-core", "0.0.1")
    assert version_mismatches() == [
        f"graphql-core {version('graphql-core')} is installed, the fast executor was written "
        "against 0.0.1 (PINNED in graphql_api/execution_pins.py)"
    ]
    with pytest.raises(RuntimeError, match=r"graphql-core .* MES_FAST_EXECUTION=0"):
        build_schema(Limits(max_aliases=31))
    assert build_schema(Limits(max_aliases=31), fast_execution=False) is not None


def test_the_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.settings import ConfigError, Settings

    assert Settings.from_env().fast_execution is True
    monkeypatch.setenv("MES_FAST_EXECUTION", "0")
    assert Settings.from_env().fast_execution is False
    monkeypatch.setenv("MES_FAST_EXECUTION", "maybe")
    with pytest.raises(ConfigError, match=r"^MES_FAST_EXECUTION='maybe' is not on or off"):
        Settings.from_env()
    assert FAST.execution_context_class is FastExecutionContext
    assert DEFAULT.execution_context_class is not FastExecutionContext
