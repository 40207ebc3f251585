"""Which station an event names: its code, else its IPC-CFX handle (issue 21: a machine names
itself by its handle, the envelope's `Source`)."""

from __future__ import annotations

from domain.master import Station
from domain.ports import UnitOfWork


async def station_named(uow: UnitOfWork, code_or_handle: str | None) -> Station | None:
    """The station of that code, else the one with that CFX handle; None for neither."""
    if not code_or_handle:
        return None
    station = await uow.stations.get(code_or_handle)
    if station is None:
        station = await uow.stations.get_by_handle(code_or_handle)
    return station
