"""`mes demo`, third part: units find their way back (DOMAIN.md §6) on run WO-2001-01.

- BRD200-000004 failed ICT once (TX-0002); ICT allows a retest, so it stayed at the step, and
  the retest (TX-0003) passes: two tracks at step 20, attempts 1 and 2.
- BRD200-000003 failed AOI on our void limit: REWORK back to AOI (step 10), inspected again,
  passes.
- BRD200-000006 fails AOI (NG): HOLD for failure analysis, RELEASE (a false call), RETEST,
  inspected again, passes.
- BRD200-000001 and -000002 passed AOI and ICT, but their paste lot is suspect: holdUnits
  contains the good boards, the lab clears the lot, releaseHold returns them where they were.
Idempotent: dispositions are given only to units in the state they answer; events repeat
under their own keys.
"""

from __future__ import annotations

from domain.actors import Actor
from domain.enums import DispositionAction, UnitStatus
from domain.ingest.pipeline import IngestService
from domain.ingest.records import IngestEnvelope
from domain.ports import ReadStore
from domain.usecases import holds as ho
from domain.usecases import lifecycle as lc
from domain.usecases.bus import MessageBus
from graphql_api.demo.events import aoi_event, ict_event


def _again(env: IngestEnvelope, suffix: str) -> IngestEnvelope:
    return IngestEnvelope(
        source_system=env.source_system,
        dedupe_key=f"{env.dedupe_key}/{suffix}",
        event_type=env.event_type,
        occurred_at=env.occurred_at,
        payload=env.payload,
    )


async def quality_story(
    bus: MessageBus, store: ReadStore, ingest: IngestService, actor: Actor
) -> list[str]:
    done: list[str] = []

    async def status(sn: str) -> UnitStatus:
        return (await store.units([sn]))[sn].status

    async def dispose(
        sn: str, action: DispositionAction, reason: str, to_step: int | None = None
    ) -> None:
        await bus.handle(lc.DisposeUnit(sn, action, reason, "QA-0007", to_step), actor)
        done.append(f"{sn}: {action.value} ({reason})")

    # a retest at ICT: board 4 failed once (TX-0002), passes now
    await ingest.ingest(ict_event("ICT-01-TX-0003", [(4, "Passed", 1003.0, 3.30)]), actor)
    # a rework: board 3 failed AOI on the void limit
    if await status("BRD200-000003") is UnitStatus.OUT_FAILED:
        await dispose("BRD200-000003", DispositionAction.REWORK, "voids reflowed by hand", 10)
    await ingest.ingest(_again(aoi_event(3, "OK", 11.0), "after-rework"), actor)
    # a hold and release: board 6 fails AOI
    await ingest.ingest(aoi_event(6, "NG", 14.0), actor)
    if await status("BRD200-000006") is UnitStatus.OUT_FAILED:
        await dispose("BRD200-000006", DispositionAction.HOLD, "failure analysis")
    if await status("BRD200-000006") is UnitStatus.ON_HOLD:
        await dispose("BRD200-000006", DispositionAction.RELEASE, "FA: a false call")
    if await status("BRD200-000006") is UnitStatus.OUT_FAILED:
        await dispose("BRD200-000006", DispositionAction.RETEST, "inspect again")
    await ingest.ingest(_again(aoi_event(6, "OK", 14.0), "retest"), actor)
    done += await _contain_good_boards(bus, store, actor)
    units = await store.units([f"BRD200-{n:06d}" for n in (3, 4, 6)])
    done.append(
        "quality: "
        + ", ".join(
            f"{sn} {u.status.value} at {u.current_step_no}" for sn, u in sorted(units.items())
        )
    )
    return done


PASTE_LOT = "suspect solder paste lot SP-0815"


async def _contain_good_boards(bus: MessageBus, store: ReadStore, actor: Actor) -> list[str]:
    """A held good board released (once: a later demo finds the hold and skips it)."""
    sns = ("BRD200-000001", "BRD200-000002")
    units = await store.units(list(sns))
    ids = [u.id for u in units.values() if u.id is not None]
    held_before = await store.holds_of_units(ids)
    if any(h.reason == PASTE_LOT for found in held_before.values() for h in found):
        return []
    hold = await bus.handle(ho.HoldUnits(ho.UnitFilter(sns=sns), PASTE_LOT), actor)
    after = await store.units(list(sns))
    held = ", ".join(f"{sn} {u.status.value}" for sn, u in sorted(after.items()))
    await bus.handle(ho.ReleaseHold(hold.id or 0), actor)
    back = await store.units(list(sns))
    released = ", ".join(f"{sn} {u.status.value}" for sn, u in sorted(back.items()))
    return [f"hold {hold.id} ({PASTE_LOT}): {held}; released: {released}"]
