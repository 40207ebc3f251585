"""The published IPC-CFX examples through RabbitMQ (AMQP 1.0, the real broker) into the real
pipeline (`Services.cfx`), on both databases: as a machine publishes them, one envelope per
message, some gzip-compressed, two in one array; each ends as over `POST /cfx` (tests/api/
test_cfx_http.py), a resend is DUPLICATE, and a ValidateUnitsRequest is answered on its
reply-to address with its correlation id."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.enums import TrackResult
from graphql_api.bootstrap import Services
from tests.amqp.broker import declare_durable, delete_queue, drain, gzipped, publish
from tests.amqp.cfx_consuming import WAIT_S, consuming, duplicates
from tests.cfx_world import TI, board_2_again, envelope, native_cfx_services

pytestmark = pytest.mark.amqp


@pytest.fixture
async def services(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Services]:
    pg_url = request.getfixturevalue("pg_url") if backend != "sqlite" else None
    async with native_cfx_services(backend, tmp_path, pg_url) as made:
        yield made


async def until_stored(services: Services, keys: list[tuple[str, str]]) -> None:
    """Every key's event is stored (the consumer settles a message after its envelopes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not all([await services.store.event_by_key(s, k) for s, k in keys]):
        assert loop.time() < deadline, "timed out waiting for the events"
        await asyncio.sleep(0.05)


async def test_the_published_examples_through_rabbitmq(
    services: Services, amqp_url: str, queue: str
) -> None:
    spi, aoi, ict = f"{TI}.UnitsInspected.spi", f"{TI}.UnitsInspected", f"{TI}.UnitsTested"
    arrived = envelope("CFX.Production.UnitsArrived")
    sent = [
        envelope(spi),
        board_2_again(spi),
        envelope(aoi),
        board_2_again(aoi),
        envelope(ict),
        arrived,
    ]
    reply = f"mes-test-reply-{uuid.uuid4().hex[:12]}"
    request = envelope("CFX.InformationSystem.UnitValidation.ValidateUnitsRequest")
    before = duplicates()
    publish(queue, sent[0], gzipped(sent[1]), [sent[2], sent[3]], url=amqp_url)
    publish(queue, gzipped(sent[4]), sent[5], arrived, url=amqp_url)  # the last: a resend
    declare_durable(reply, amqp_url)  # the requester's queue, there before it asks
    publish(queue, request, url=amqp_url, reply_to=f"/queue/{reply}", correlation_id="ask-1")
    try:
        sources = {e["Source"] for e in [*sent, request]}
        async with consuming(services, amqp_url, queue, sources):
            await until_stored(services, [(e["Source"], e["UniqueID"]) for e in sent])
            loop = asyncio.get_running_loop()
            replies: list[Any] = []
            deadline = loop.time() + WAIT_S
            while not replies:
                assert loop.time() < deadline, "no answer on the reply-to address"
                replies = await loop.run_in_executor(None, drain, f"/queue/{reply}", amqp_url)
    finally:
        delete_queue(reply)
    # every message settled: none comes back
    assert await asyncio.get_running_loop().run_in_executor(None, drain, queue, amqp_url) == []
    events = {
        e["UniqueID"]: await services.store.event_by_key(e["Source"], e["UniqueID"]) for e in sent
    }
    assert all(events.values())
    ict_event = events[envelope(ict)["UniqueID"]]
    assert ict_event is not None and ict_event.result is TrackResult.PASS
    assert sorted(ict_event.sn_list) == ["PANEL34543535-1", "PANEL34543535-2"]
    info = events[arrived["UniqueID"]]
    assert info is not None and info.event_type.value == "INFO"
    [answer] = replies
    response = json.loads(bytes(answer.body))
    assert answer.correlation_id == "ask-1"
    assert response["MessageName"] == "CFX.InformationSystem.UnitValidation.ValidateUnitsResponse"
    assert response["RequestID"] == request["RequestID"]
    assert len(response["MessageBody"]["ValidationResults"]) == 2
    # the resend of UnitsArrived was answered DUPLICATE, and made no second event
    assert duplicates() - before == 1
    async with services.bus.uow_factory() as uow:
        again = await uow.ingest_events.get_by_key(arrived["Source"], arrived["UniqueID"])
    assert again is not None and again.id == info.id
