"""What one transaction learnt that its later statements may trust: the unit of work's state,
shared by the repositories that need it."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.runs_and_units import Run


@dataclass
class TransactionState:
    """Built by SqlUnitOfWork with its repositories, one per transaction, never shared.

    The rule: an entry is kept only while this transaction holds the lock that keeps it true,
    and a repository that writes the thing an entry describes drops the entry first.

    - `runs`: runs read along with the units this transaction locked, and held with them (FOR
      KEY SHARE, PostgreSQL): `runs.get` answers them without a statement. Nobody else may
      change a held run before the transaction ends; `runs.update` and `runs.set_status_if`
      drop it (this transaction changes it).
    - `open_rejections`: for each dedupe key this transaction holds the lock of, whether it
      has open rejections (learnt by `ingest_events.get_by_key`). Rejections of a key are
      only stored under its lock, so the answer holds until the transaction ends;
      `rejections.resolve_key` sends no UPDATE when none were open.
    - `unparked`: the units this transaction locked whose `has_parked` was false: no event
      is parked for them (parking one sets it, under the units' locks, and never clears it),
      so `parked.waiting` looks for none of theirs (an accepted event's move costs no
      statement for order tolerance, issue 20); `parked.add` drops its units.
    """

    runs: dict[str, Run] = field(default_factory=dict)
    open_rejections: dict[tuple[str, str], bool] = field(default_factory=dict)
    unparked: set[int] = field(default_factory=set)
