"""`mes demo`, fourth part (issue 16) on run WO-2001-01: a tester error is not a failure, and
the AOI refuses a board inspected with the wrong program.

- BRD200-000003 (back at ICT after its rework): the fixture faults ("Aborted", TX-0004), an
  ERROR track that leaves it at the step with its attempt; the test again (TX-0005) passes.
- BRD200-000005 reaches the AOI with the bottom-side program while the step's recipe is the
  top side: refused with RECIPE_MISMATCH (kept as a rejection).
Idempotent: the events repeat under their own keys (DUPLICATE; the refusal counts an attempt).
"""

from __future__ import annotations

from dataclasses import replace

from domain.actors import Actor
from domain.ingest.pipeline import IngestService
from graphql_api.demo.events import aoi_event, ict_event

#: the program the test route's AOI step must run
TEST_AOI_RECIPE = "BRD200-TOP"


async def interlock_story(ingest: IngestService, actor: Actor) -> list[str]:
    done: list[str] = []
    outcomes = [
        await ingest.ingest(ict_event("ICT-01-TX-0004", [(3, "Aborted", 1002.0, 3.30)]), actor),
        await ingest.ingest(ict_event("ICT-01-TX-0005", [(3, "Passed", 1002.5, 3.30)]), actor),
    ]
    results = [o.event.result.value if o.event and o.event.result else "-" for o in outcomes]
    done.append(f"BRD200-000003 at ICT: {' then '.join(results)} (a tester error, then a pass)")
    bottom = aoi_event(5, "OK", 9.0)
    wrong = await ingest.ingest(
        replace(bottom, payload={**bottom.payload, "program": "BRD200-BOT"}), actor
    )
    refusal = wrong.error.code.value if wrong.error else wrong.status.value
    done.append(f"BRD200-000005 at AOI with program BRD200-BOT: {refusal}")
    return done
