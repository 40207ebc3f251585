"""Schemathesis (GraphQL mode) against the ASGI app, with a bounded budget: every root field
gets generated queries and mutations (arbitrary arguments, JSON payloads included) against
the demo factory; none may answer 5xx or an INTERNAL_SERVER_ERROR.

The app runs on its own SQLite file and its own event loop (in a thread): the generated cases
come synchronously, one request each."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from adapters.db import create_engine
from adapters.migrate import upgrade
from adapters.settings import Settings
from graphql_api.bootstrap import bootstrap
from graphql_api.demo import load_demo
from graphql_api.schema import SCHEMA_FILE
from tests.conftest import make_token

#: examples per root field (41 fields): the whole run stays within seconds
EXAMPLES = 25
#: hostile examples per mutation and main query
HOSTILE_EXAMPLES = 8
NAMES = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z")
LEAVES = (
    st.none().map(lambda _: nodes.Null)
    | st.booleans().map(nodes.Boolean)
    | st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
    | st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float)
    | st.text(max_size=30).map(nodes.String)
    | st.sampled_from(["BRD200-000001", "AOI-01", "ICT-01", "OK", "NG", "PASS"]).map(nodes.String)
)


def _object(fields: dict[str, graphql.ValueNode]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
            for k, v in fields.items()
        ]
    )


JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4).map(nodes.List)
        | st.dictionaries(NAMES, inner, max_size=4).map(_object)
    ),
    max_leaves=12,
)
schemathesis.graphql.scalar("JSON", JSON_VALUES)


class AppThread:
    """The app on an event loop of its own thread, driven from the synchronous test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def post(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., httpx.Response]]:
    """Posts a query to the app (authentication on, an admin token) over the demo factory."""
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}"
    engine = create_engine(url)
    services = bootstrap(Settings(database_url=url), engine=engine)
    app_thread = AppThread()

    async def prepare() -> httpx.AsyncClient:
        await upgrade(engine)
        await load_demo(services.bus, services.store, services.ingest)
        token = await make_token(services)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=services.app()),
            base_url="http://mes.test",
            headers={"Authorization": f"Bearer {token}"},
        )

    client = app_thread.run(prepare())
    try:

        def send(query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
            # the standard library escapes lone surrogates (\ud800) as JSON allows
            body = json.dumps({"query": query, "variables": variables or {}})
            headers = {"content-type": "application/json"}
            return app_thread.run(client.post("/graphql", content=body, headers=headers))

        send.metrics = lambda: app_thread.run(client.get("/metrics"))  # type: ignore[attr-defined]
        yield send
    finally:
        app_thread.run(client.aclose())
        app_thread.run(engine.dispose())
        app_thread.close()


schema = schemathesis.graphql.from_path(SCHEMA_FILE)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_breaks_the_service(
    case: Any, post: Callable[..., httpx.Response]
) -> None:
    response = post(case.body)
    assert response.status_code < 500, (response.status_code, response.text, case.body)
    for error in response.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", (error, case.body)


# ---------------------------------------------------------------- the hostile-input suite
#
# Every mutation and the main queries, with arguments built from the schema's types where
# each value may be hostile for its type: strings with lone surrogates, control, zero-width,
# bidi and white-space characters, or not NFC; times at the calendar's edges with an offset,
# naive, unreadable; ids and ints past 64 bits; JSON nested past MES_MAX_JSON_DEPTH, with
# surrogates and huge integers; cursors that decode to naive times or huge keys. None may
# answer a 5xx, an INTERNAL_SERVER_ERROR or a Python exception's text.

HOSTILE_CHARS = st.sampled_from(
    [
        *("\ud800", "\udfff", "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u200b", "\u200d"),
        *("\ufeff", "\u202e", "\u2028", " ", "\t", "\n", "\u00a0", "\u3000", "e\u0301", "%"),
        *("'", "💥"),
    ]
)
SANE = st.sampled_from(["BRD200-000001", "AOI-01", "ICT-01", "SMT-1", "AOI-G", "x", "PASS"])
STRINGS = SANE | st.builds(
    lambda head, bad, tail: head + bad + tail,
    SANE,
    st.lists(HOSTILE_CHARS, max_size=3).map("".join),
    SANE,
)
DATETIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999+00:00",
        "2026-03-02T09:00:00",
        "2026-03-02T09:00:00+01:00",
        "2026-13-45T99:00:00Z",
        "not a time",
        "\ud800",
    ]
)
IDS = st.sampled_from(
    ["1", "0", "-1", "99999999999999999999", "9223372036854775808", "1e3", "١٢", "\ud800"]
)
#: mostly within GraphQL's Int, so that most requests get past coercion to the resolvers
INTS = st.sampled_from([1, 10, 0, -1, 2**31 - 1, 2**63])


def _nest(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


JSONS = st.one_of(
    st.sampled_from(
        [
            {"sn": "BRD200-000001", "result": "PASS"},
            {"sn": "\ud800", "k\udfff": "v"},
            {"n": 2**70, "m": -(2**64)},
            {"sn": "BRD200-000001", "text": "a\x00b"},
        ]
    ),
    st.integers(60, 300).map(lambda d: {"deep": _nest(d)}),
)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode()


CURSORS = st.sampled_from(
    [
        _cursor("2026-01-01T00:00:00|5"),
        _cursor("2026-01-01T00:00:00+00:00|99999999999999999999"),
        _cursor("0001-01-01T00:00:00+05:00|1"),
        _cursor("run:99999999999999999999"),
        _cursor("unit:-1"),
        "%%%",
        "\ud800",
    ]
)
NAMED = {"after": CURSORS, "first": st.sampled_from([0, 1, 50, 501, -1, 2**31])}


def _strategy(type_: graphql.GraphQLInputType, name: str, depth: int = 0) -> Any:
    if isinstance(type_, graphql.GraphQLNonNull):
        return _strategy(type_.of_type, name, depth)
    if name in NAMED:
        return NAMED[name]
    if isinstance(type_, graphql.GraphQLList):
        return st.lists(_strategy(type_.of_type, name, depth), min_size=1, max_size=3)
    if isinstance(type_, graphql.GraphQLEnumType):
        return st.sampled_from(list(type_.values))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        required = {
            k: _strategy(f.type, k, depth + 1)
            for k, f in type_.fields.items()
            if graphql.is_required_input_field(f)
        }
        optional = {
            k: _strategy(f.type, k, depth + 1)
            for k, f in type_.fields.items()
            if not graphql.is_required_input_field(f)
        }
        return st.fixed_dictionaries(required, optional=optional if depth < 2 else {})
    scalar = getattr(type_, "name", "")
    return {
        "String": STRINGS,
        "ID": IDS,
        "Int": INTS,
        "Float": st.sampled_from([0.0, 1.5, -1e308, 1e308]),
        "Boolean": st.booleans(),
        "DateTime": DATETIMES,
        "JSON": JSONS,
    }[scalar]


def _selection(type_: graphql.GraphQLOutputType) -> str:
    named = graphql.get_named_type(type_)
    if not isinstance(named, graphql.GraphQLObjectType):
        return ""
    error = " error { code message }" if "error" in named.fields else ""
    return f"{{ __typename{error} }}"


GRAPHQL_SCHEMA = graphql.build_schema(SCHEMA_FILE.read_text())
MAIN_QUERIES = [
    *("unit", "run", "line", "station", "carrier", "ingestEvent", "ingestEvents"),
    *("ingestRejections", "auditEvents", "productionReport", "deviceDataRecords"),
    *("validateUnits", "workOrder", "routing"),
]
FIELDS = [("mutation", name) for name in sorted(GRAPHQL_SCHEMA.mutation_type.fields)] + [  # type: ignore[union-attr]
    ("query", name) for name in MAIN_QUERIES
]
#: Python's own words: an exception's text that slipped past masking
LEAKED = re.compile(
    r"Traceback|\b\w+(Error|Exception)\b|surrogates not allowed|codec can't|recursion"
    r"|asyncpg|sqlalchemy|sqlite3|NoneType|object has no attribute|int too big"
)


def _operation(kind: str, name: str) -> tuple[str, Any]:
    root = GRAPHQL_SCHEMA.mutation_type if kind == "mutation" else GRAPHQL_SCHEMA.query_type
    field = root.fields[name]  # type: ignore[union-attr]
    decls = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    args = ", ".join(f"{a}: ${a}" for a in field.args)
    doc = (
        f"{kind}{f'({decls})' if decls else ''} "
        f"{{ {name}{f'({args})' if args else ''} {_selection(field.type)} }}"
    )
    variables = st.fixed_dictionaries({a: _strategy(arg.type, a) for a, arg in field.args.items()})
    return doc, variables


def _messages(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "message" and isinstance(v, str):
                yield v
            else:
                yield from _messages(v)
    elif isinstance(value, list):
        for v in value:
            yield from _messages(v)


@pytest.mark.parametrize(("kind", "name"), FIELDS, ids=[f"{k}-{n}" for k, n in FIELDS])
def test_hostile_input_gets_a_clear_answer(
    kind: str, name: str, post: Callable[..., httpx.Response]
) -> None:
    doc, variables = _operation(kind, name)

    @settings(
        max_examples=HOSTILE_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),  # a failure is shown as found: no shrinking
    )
    @given(values=variables)
    def check(values: dict[str, Any]) -> None:
        response = post(doc, values)
        assert response.status_code < 500, (response.status_code, response.text, values)
        body = response.json()
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code != "INTERNAL_SERVER_ERROR", (error, values)
        for message in _messages(body):
            assert not LEAKED.search(message), (message, values)

    check()


def test_metrics_still_render_after_the_hostile_suite(post: Callable[..., httpx.Response]) -> None:
    """Hostile source systems became label values: /metrics must still write them out."""
    post(
        "mutation($i: IngestEventInput!) { ingestEvent(input: $i) { status } }",
        {
            "i": {
                "sourceSystem": "AOI-01\ud800",
                "dedupeKey": "k",
                "eventType": "AUTO",
                "occurredAt": "2026-03-02T09:00:00+01:00",
                "payload": {"sn": "BRD200-000001"},
            }
        },
    )
    assert post.metrics().status_code == 200  # type: ignore[attr-defined]
