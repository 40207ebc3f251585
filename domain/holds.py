"""Holds (DOMAIN.md §6, issue 16 item 1): every hold is a Hold row naming the units it holds.
A unit stays ON_HOLD while any hold on it is open; when the last one closes it returns to the
status and step it was held from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: the reason of a hold opened by an alarm with action HOLD
ALARM_REASON = "ALARM"
#: the reason of a hold opened by a KEY spec judged FAIL after its track passed
LATE_KEY_FAIL_REASON = "LATE_KEY_FAIL"


@dataclass(frozen=True, slots=True)
class HeldUnit:
    """One unit of a hold; released_at is set when the hold lets go of it."""

    unit_id: int
    sn: str
    released_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True, slots=True)
class Hold:
    reason: str
    actor: str
    opened_at: datetime
    units: tuple[HeldUnit, ...] = ()
    #: when its last unit was released
    closed_at: datetime | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def summary(self) -> dict[str, str]:
        """What a UNIT_ON_HOLD refusal names of each open hold."""
        return {"id": str(self.id), "reason": self.reason, "actor": self.actor}
