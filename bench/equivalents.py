"""The deep trace (bench/trace.py TRACE) asked of the references: PostGraphile's query and one
hand-written json_agg statement, the same data in other shapes; and the check that the answers
hold the same leaf values, as multisets of normalized leaves."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

#: the unit, its run and route version steps, work order, tracks with station (+ group),
#: data values and ingest event, and the unit's ingest events with their value count
POSTGRAPHILE_TRACE = """query($sn: String!) { unitBySn(sn: $sn) {
  sn status currentStepNo
  runByRunNo { runNo status routeVersionByRouteVersionId { versionNo status
    compiledSteps { nodes { stepNo operationCode stationType } } } }
  workOrderByWoNo { woNo productCode }
  tracksByUnitId { nodes { id stepNo attempt operationCode source inAt outAt result operatorId
    stationByStationCode { code name stationType stationGroupByGroupCode { code } }
    dataValuesByTrackId { nodes { specName dataType valueNumber valueText valueBoolean valueUnit
                                  judge alarmed source collectedAt } }
    ingestEventByIngestEventId { id dedupeKey sourceSystem } } }
  ingestEventUnitsByUnitId { nodes { ingestEventByEventId { id dedupeKey sourceSystem eventType
    occurredAt receivedAt stepNo result dataValuesByIngestEventId { totalCount } } } } } }"""

#: the floor: the same answer built by PostgreSQL in one statement, sent as JSON text
JSON_AGG_TRACE = """
SELECT json_build_object(
  'sn', u.sn, 'status', u.status, 'currentStepNo', u.current_step_no,
  'run', (SELECT json_build_object('runNo', r.run_no, 'status', r.status, 'routeVersion',
      (SELECT json_build_object('versionNo', v.version_no, 'status', v.status, 'steps',
          (SELECT coalesce(json_agg(json_build_object('stepNo', s -> 'step_no',
                   'operationCode', s -> 'operation_code', 'stationType', s -> 'station_type')),
                 '[]')
           FROM jsonb_array_elements(v.steps) AS s))
       FROM route_version v WHERE v.id = r.route_version_id))
    FROM run r WHERE r.run_no = u.run_no),
  'workOrder', (SELECT json_build_object('woNo', w.wo_no, 'productCode', w.product_code)
    FROM work_order w WHERE w.wo_no = u.wo_no),
  'tracks', (SELECT coalesce(json_agg(json_build_object(
      'id', t.id::text, 'stepNo', t.step_no, 'attempt', t.attempt,
      'operationCode', t.operation_code, 'source', t.source, 'inAt', t.in_at,
      'outAt', t.out_at, 'result', t.result, 'operatorId', t.operator_id,
      'station', (SELECT json_build_object('code', st.code, 'name', st.name,
          'stationType', st.station_type,
          'group', (SELECT json_build_object('code', g.code)
                    FROM station_group g WHERE g.code = st.group_code))
        FROM station st WHERE st.code = t.station_code),
      'dataValues', (SELECT coalesce(json_agg(json_build_object(
          'specName', d.spec_name, 'dataType', d.data_type, 'valueNumber', d.value_number,
          'valueText', d.value_text, 'valueBoolean', d.value_boolean,
          'valueUnit', d.value_unit, 'judge', d.judge, 'alarmed', d.alarmed,
          'source', d.source, 'collectedAt', d.collected_at) ORDER BY d.id), '[]')
        FROM data_value d WHERE d.track_id = t.id),
      'ingestEvent', (SELECT json_build_object('id', e.id::text, 'dedupeKey', e.dedupe_key,
          'sourceSystem', e.source_system)
        FROM ingest_event e WHERE e.id = t.ingest_event_id)
    ) ORDER BY t.id), '[]') FROM track t WHERE t.unit_id = u.id),
  'ingestEvents', (SELECT coalesce(json_agg(json_build_object(
      'id', e.id::text, 'dedupeKey', e.dedupe_key, 'sourceSystem', e.source_system,
      'eventType', e.event_type, 'occurredAt', e.occurred_at, 'receivedAt', e.received_at,
      'stepNo', e.step_no, 'result', e.result,
      'dataValueCount', (SELECT count(*) FROM data_value d WHERE d.ingest_event_id = e.id))
    ORDER BY e.id), '[]')
    FROM ingest_event_unit l JOIN ingest_event e ON e.id = l.event_id WHERE l.unit_id = u.id)
)::text
FROM unit u WHERE u.sn = $1"""

_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")

Leaf = tuple[str, Any]


def _normalized(key: str | None, value: Any) -> Leaf:
    if key == "id":  # the service's ID is a string, a BigInt's may be either
        return ("id", str(value))
    if value is None or isinstance(value, bool):
        return ("const", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return ("instant", datetime.fromisoformat(value).astimezone(UTC).isoformat())
    return ("text", value)


def _leaves(node: Any, key: str | None = None) -> Iterator[Leaf]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item, key)
    else:
        yield _normalized(key, node)


def leaves(answer: Any) -> Counter[Leaf]:
    """The multiset of an answer's normalized leaf values: ids as strings, datetimes as UTC
    instants, numbers as floats, enums and strings as they are; names and shapes ignored."""
    return Counter(_leaves(answer))


def mismatch(ours: Counter[Leaf], theirs: Counter[Leaf], name: str, shown: int = 8) -> str | None:
    """None when both multisets are equal, else what differs, readably."""
    if ours == theirs:
        return None
    only_ours, only_theirs = ours - theirs, theirs - ours
    return (
        f"the service's trace and {name}'s differ: {ours.total():,} leaf values against "
        f"{theirs.total():,}; only in the service's ({only_ours.total():,}): "
        f"{list(only_ours.items())[:shown]}; only in {name}'s ({only_theirs.total():,}): "
        f"{list(only_theirs.items())[:shown]}"
    )
