"""Issue 16's line interlock through validateUnits, on both databases (DOMAIN.md §4 step 7).
The rules themselves (ingest, trackIn, carrier loads across BATCH steps) are
tests/unit/test_ingest_rules.py."""

from __future__ import annotations

from domain import master as dm
from domain.enums import StationType
from domain.usecases import master_data as md
from graphql_api.bootstrap import Services
from tests.conftest import ApiClient
from tests.ingest_builders import IngestFactory

VALIDATE = """query($s: String!, $sns: [String!]!) { validateUnits(stationCode: $s, sns: $sns) {
  sn ok code details } }"""


async def test_validate_units_answers_the_line_interlock(
    api: ApiClient, services: Services
) -> None:
    f = await IngestFactory(services.bus).build(units=1)
    c = f.code
    await f.do(md.UpsertLine(dm.Line(c("L2"), "Line 2")))
    aoi = dm.Station(c("AOI-1"), "AOI-1", StationType.AUTO, c("L2"), c("AOI-G"))
    await f.do(md.UpsertStation(aoi))
    lines = {"stationLineCode": c("L2"), "runLineCode": c("L")}
    [answer] = (await api.gql(VALIDATE, {"s": c("AOI-1"), "sns": f.sns}))["validateUnits"]
    assert (answer["ok"], answer["code"]) == (False, "STATION_MISMATCH")
    assert lines.items() <= answer["details"].items()
    # stations without a line (shared testers) keep today's behaviour
    await f.do(
        md.UpsertStation(dm.Station(c("AOI-1"), "AOI-1", StationType.AUTO, None, c("AOI-G")))
    )
    [answer] = (await api.gql(VALIDATE, {"s": c("AOI-1"), "sns": f.sns}))["validateUnits"]
    assert answer["ok"] is True, answer
