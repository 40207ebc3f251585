"""The large page: one request for a run's first 500 units with their tracks, the second read
measured beside PostGraphile and the json_agg floor (bench/versus.py). The factory registers
the history units first, so at scale the page is 500 units with a track each (bench/factory.py);
in --smoke the run has fewer units and the page is what exists."""

from __future__ import annotations

from typing import Any

from bench.factory import Factory
from bench.versus import Scenario

PAGE_SIZE = 500  # MES_MAX_PAGE_SIZE's default: the largest page a client may ask for

PAGE = """query($runNo: String!, $first: Int!) { run(runNo: $runNo) { runNo
  units(first: $first) { totalCount pageInfo { hasNextPage }
    edges { node { sn status currentStepNo
      tracks { id stepNo attempt operationCode source inAt outAt result operatorId } } } } } }"""

POSTGRAPHILE_PAGE = """query($runNo: String!, $first: Int!) { runByRunNo(runNo: $runNo) { runNo
  unitsByRunNo(first: $first, orderBy: PRIMARY_KEY_ASC) { totalCount pageInfo { hasNextPage }
    nodes { sn status currentStepNo
      tracksByUnitId { nodes { id stepNo attempt operationCode source inAt outAt result
                               operatorId } } } } } }"""

#: the floor: the same page built by PostgreSQL in one statement ($2: the page size)
JSON_AGG_PAGE = """
SELECT json_build_object(
  'runNo', r.run_no,
  'totalCount', (SELECT count(*) FROM unit c WHERE c.run_no = r.run_no),
  'hasNextPage', (SELECT count(*) > $2
    FROM (SELECT 1 FROM unit c WHERE c.run_no = r.run_no LIMIT $2 + 1) AS more),
  'units', (SELECT coalesce(json_agg(json_build_object(
      'sn', u.sn, 'status', u.status, 'currentStepNo', u.current_step_no,
      'tracks', (SELECT coalesce(json_agg(json_build_object(
          'id', t.id::text, 'stepNo', t.step_no, 'attempt', t.attempt,
          'operationCode', t.operation_code, 'source', t.source, 'inAt', t.in_at,
          'outAt', t.out_at, 'result', t.result, 'operatorId', t.operator_id) ORDER BY t.id),
        '[]') FROM track t WHERE t.unit_id = u.id)
    ) ORDER BY u.id), '[]')
    FROM (SELECT * FROM unit c WHERE c.run_no = r.run_no ORDER BY c.id LIMIT $2) AS u)
)::text
FROM run r WHERE r.run_no = $1"""


def _counts(units: list[Any], tracks_of: Any) -> dict[str, int]:
    return {"units": len(units), "tracks": sum(len(tracks_of(u)) for u in units)}


def _shape(body: Any) -> dict[str, int]:
    edges = body["data"]["run"]["units"]["edges"]
    return _counts([e["node"] for e in edges], lambda u: u["tracks"])


def _pg_shape(body: Any) -> dict[str, int]:
    units = body["data"]["runByRunNo"]["unitsByRunNo"]["nodes"]
    return _counts(units, lambda u: u["tracksByUnitId"]["nodes"])


def _agg_shape(body: Any) -> dict[str, int]:
    return _counts(body["units"], lambda u: u["tracks"])


def large_page(f: Factory) -> Scenario:
    """The bench run's first page of units, with their tracks."""
    variables = {"runNo": f.run_no, "first": PAGE_SIZE}
    return Scenario(
        name="page",
        title="large page",
        query=PAGE,
        variables=variables,
        shape=_shape,
        postgraphile_query=POSTGRAPHILE_PAGE,
        postgraphile_shape=_pg_shape,
        json_agg=JSON_AGG_PAGE,
        json_agg_args=(f.run_no, PAGE_SIZE),
        json_agg_shape=_agg_shape,
    )
