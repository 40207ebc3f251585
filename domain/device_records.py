"""The device gateway's records and placement production counts (DOMAIN.md §7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DeviceDataRecord:
    """A device gateway's values for an existing track or carrier track (DOMAIN.md §7)."""

    event_id: str
    input_hash: str
    source: str
    event_time: datetime
    received_at: datetime
    values_created: int
    track_id: int | None = None
    carrier_track_id: int | None = None
    equipment_id: str | None = None
    operator_id: str | None = None
    meta: Any = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ModuleCount:
    module: str
    picked: int
    placed: int


@dataclass(frozen=True, slots=True)
class ProductionCountRecord:
    """What a placement machine reports per job (DOMAIN.md §7)."""

    event_id: str
    input_hash: str
    line_code: str
    quantity: int
    started_at: datetime
    ended_at: datetime
    modules: tuple[ModuleCount, ...]
    received_at: datetime
    station_code: str | None = None
    equipment_id: str | None = None
    run_no: str | None = None
    product_code: str | None = None
    id: int | None = None

    @property
    def picked(self) -> int:
        return sum(m.picked for m in self.modules)

    @property
    def placed(self) -> int:
        return sum(m.placed for m in self.modules)

    @property
    def pick_loss(self) -> int:
        return self.picked - self.placed

    @property
    def placement_rate(self) -> float | None:
        return self.placed / self.picked if self.picked else None
