"""The AMQP tests need the broker: without it they skip, saying what is missing; under CI=true
they fail (`make test` enables RabbitMQ's AMQP 1.0 plugin first)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.amqp.broker import AMQP_URL, delete_queue, reachable
from tests.conftest import IN_CI

_checked: list[str | None] = []


@pytest.fixture(scope="session")
def amqp_url() -> str:
    if not _checked:
        _checked.append(reachable())
    why = _checked[0]
    if why is not None:
        reason = (
            f"no AMQP 1.0 broker at {AMQP_URL} ({why}): the AMQP tests need RabbitMQ with its "
            "AMQP 1.0 plugin (`make test` runs `rabbitmq-plugins enable rabbitmq_amqp1_0` as "
            "root), or MES_TEST_AMQP_URL"
        )
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return AMQP_URL


@pytest.fixture
def queue(amqp_url: str) -> Iterator[str]:
    """A fresh queue's address (`/queue/NAME`: RabbitMQ declares it on first use)."""
    name = f"mes-test-{uuid.uuid4().hex[:12]}"
    yield f"/queue/{name}"
    delete_queue(name)
