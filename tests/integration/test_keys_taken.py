"""A taken unique key is reported by the repository (KeyTaken) and refused by the use case,
alike on the fake unit of work and the SQL ones, so the fakes cannot drift (issue 17 item 3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.errors import DomainError, ErrorCode, KeyTaken
from domain.security import new_token
from domain.usecases import runs_and_units as prod
from domain.usecases import tokens as tk
from domain.usecases.bus import MessageBus
from graphql_api.bootstrap import Services
from tests.builders import Factory
from tests.conftest import unique
from tests.fakes import fake_bus

AT = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)


@pytest.fixture(params=["sql", "fake"])
def bus(request: pytest.FixtureRequest, services: Services) -> MessageBus:
    return services.bus if request.param == "sql" else fake_bus()[0]


async def test_units_whose_sn_is_taken_are_reported_and_refused(bus: MessageBus) -> None:
    f = Factory(bus)
    run_no = await f.run(units=2)
    async with bus.uow_factory() as uow:
        [taken, _] = await uow.units.get_many(await uow.units.sns_of_run(run_no, 2))
        new = replace(taken, sn=f.code("NEW"), id=None)
        with pytest.raises(KeyTaken) as caught:
            await uow.units.add_many([new, replace(taken, id=None)])
    assert caught.value.keys == [taken.sn]
    with pytest.raises(DomainError) as refused:
        await f.do(prod.RegisterUnits(run_no, sns=(new.sn, taken.sn)))
    assert refused.value.code is ErrorCode.UNIT_ALREADY_EXISTS
    assert refused.value.details == {"sns": [taken.sn], "count": 1}


async def test_a_token_name_is_taken_while_its_token_is_active(bus: MessageBus) -> None:
    name = unique("TK")
    first, _ = new_token(name, ["read"], [], AT)
    async with bus.uow_factory() as uow:
        await uow.tokens.add(first)
        with pytest.raises(KeyTaken) as caught:
            await uow.tokens.add(new_token(name, ["read"], [], AT)[0])
        assert caught.value.keys == [name]
        await uow.commit()
    f = Factory(bus)
    with pytest.raises(DomainError) as refused:
        await f.do(tk.CreateToken(name, ("read",)))
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert refused.value.details == {"field": "name"}
    assert refused.value.message == (
        f"an active token named {name!r} exists already (rotate or revoke it, "
        "or choose another name)"
    )
    await f.do(tk.RevokeToken(name))
    created = await f.do(tk.CreateToken(name, ("read",)))  # a revoked token's name is free
    assert created.token.name == name and created.token.active
