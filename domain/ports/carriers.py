"""Ports of carriers, device data records, production counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.carriers import Carrier, CarrierLoad, CarrierTrack
from domain.device_records import DeviceDataRecord, ProductionCountRecord
from domain.enums import (
    TrackFlag,
)


class CarrierRepository(Protocol):
    async def get(self, carrier_no: str) -> Carrier | None: ...
    async def get_or_create(self, carrier_no: str, at: datetime) -> Carrier:
        """The carrier, created on first use; its row is locked for the transaction."""
        ...

    async def open_loads(self, carrier_id: int) -> list[CarrierLoad]: ...
    async def open_loads_of_units(self, unit_ids: Sequence[int]) -> list[CarrierLoad]: ...
    async def add_loads(self, loads: Sequence[CarrierLoad]) -> None: ...
    async def close_loads(self, load_ids: Sequence[int], at: datetime) -> None:
        """Close those of these loads that are still open (a closed one keeps its time)."""
        ...

    async def close_loads_of_units(self, unit_ids: Sequence[int], at: datetime) -> None:
        """Close every open load of these units (recorded at a step that is not BATCH)."""
        ...

    async def add_track(self, track: CarrierTrack) -> CarrierTrack: ...
    async def get_track(self, carrier_track_id: int) -> CarrierTrack | None: ...
    async def set_track_flag(self, carrier_track_id: int, flag: TrackFlag) -> None: ...


class DeviceDataRepository(Protocol):
    async def get_by_event_id(self, event_id: str) -> DeviceDataRecord | None: ...
    async def add(self, record: DeviceDataRecord) -> DeviceDataRecord | None:
        """Claim the eventId; None when another sender's record holds it already."""
        ...

    async def set_values_created(self, record_id: int, count: int) -> None: ...


class ProductionCountRepository(Protocol):
    async def get_by_event_id(self, event_id: str) -> ProductionCountRecord | None: ...
    async def add(self, record: ProductionCountRecord) -> ProductionCountRecord | None:
        """Claim the eventId; None when another sender's record holds it already."""
        ...
