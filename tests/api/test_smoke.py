from __future__ import annotations

from tests.conftest import ApiClient, unique


async def test_upsert_line_and_read_it(api: ApiClient) -> None:
    code = unique("L")
    data = await api.gql(
        "mutation($i: LineInput!) { upsertLine(input: $i) { line { code name } error { code } } }",
        {"i": {"code": code, "name": "Line A"}},
    )
    assert data["upsertLine"] == {"line": {"code": code, "name": "Line A"}, "error": None}
    data = await api.gql(
        "query($c: String!) { line(code: $c) { code name stations { code } } }", {"c": code}
    )
    assert data["line"] == {"code": code, "name": "Line A", "stations": []}
