"""Metrics cannot be flooded (issue 14 item 8): items refused as FORBIDDEN never become label
values, so made-up sourceSystems neither grow the series nor take the capped slots."""

from __future__ import annotations

import pytest

from graphql_api import metrics
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient, unique
from tests.queries import BATCH
from tests.tokens import token


async def test_forbidden_items_create_no_metric_labels(
    api: ApiClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # free slots, whatever the session sent before: without the fix every name would get one
    monkeypatch.setattr(metrics, "source_label", metrics.LabelCap())
    secret = await token(services, "ingest", unique("GW"))
    names = [unique("FLOOD") for _ in range(5)]
    items = [
        {
            "sourceSystem": name,
            "dedupeKey": unique("K"),
            "eventType": "AUTO",
            "occurredAt": "2026-03-02T08:00:00Z",
            "payload": {"sn": "X"},
        }
        for name in names
    ]
    results = (await api.gql(BATCH, {"i": items}, token=secret))["ingestEvents"]
    assert {r["error"]["code"] for r in results} == {"FORBIDDEN"}
    text = (await api.client.get("/metrics")).text
    assert not [name for name in names if name in text]
    assert 'code="FORBIDDEN",source_system="_other",status="REJECTED"' in text
