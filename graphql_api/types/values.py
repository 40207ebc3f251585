"""The value inputs of trackOut and of the device gateway, and their one converter."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import Judge
from domain.values import ValueInput
from graphql_api.scalars import JSON, aware


@strawberry.input
class DataValueInput:
    spec_name: str
    value_number: float | None = strawberry.UNSET
    value_text: str | None = strawberry.UNSET
    value_boolean: bool | None = strawberry.UNSET
    value_json: JSON | None = strawberry.UNSET
    judge: Judge | None = None
    collected_at: datetime | None = None


# the same fields under the device gateway's name (the contract names both)
@strawberry.input
class DeviceDataItemInput(DataValueInput):
    pass


def value_input(v: DataValueInput) -> ValueInput:
    """The domain's value: the fields the client set (an explicit null is set), collectedAt
    with its UTC offset."""
    fields = {
        "valueNumber": v.value_number,
        "valueText": v.value_text,
        "valueBoolean": v.value_boolean,
        "valueJson": v.value_json,
    }
    return ValueInput(
        spec_name=v.spec_name,
        values={k: val for k, val in fields.items() if val is not strawberry.UNSET},
        judge=v.judge,
        collected_at=aware(v.collected_at, "collectedAt"),
    )
