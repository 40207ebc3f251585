"""Master data: lines, stations, operations, routings and their route versions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select

from adapters import rows
from adapters import tables as t
from adapters.pg import columns, keyed
from adapters.reads.base import ReadBase, grouped, split_rows
from adapters.repositories import CHUNK
from domain.master import (
    DataCollectionSpec,
    Line,
    Operation,
    Routing,
    RoutingStep,
    Station,
    StationGroup,
)
from domain.routes import RouteVersion

# a station comes with its group: one round trip where a trace made two, one after the other
_WITH_GROUP = t.station.outerjoin(t.station_group, t.station_group.c.code == t.station.c.group_code)
_STATIONS_WITH_GROUPS = (
    f"SELECT {columns(t.station, 'station.')}, {columns(t.station_group, 'station_group.')} "
    "FROM station LEFT JOIN station_group ON station_group.code = station.group_code "
    "WHERE station.code = ANY($1::varchar[])"
)


class MasterReads(ReadBase):
    """Master data by code; route versions through the process-wide cache."""

    async def lines(self, codes: Sequence[str]) -> dict[str, Line]:
        found = await self._in(select(t.line), t.line.c.code, codes)
        return {r.code: rows.line_from_row(r) for r in found}

    async def station_groups(self, codes: Sequence[str]) -> dict[str, StationGroup]:
        found = await self._in(
            select(t.station_group), t.station_group.c.code, codes, keyed(t.station_group, "code")
        )
        return {r.code: rows.group_from_row(r) for r in found}

    async def stations_with_groups(
        self, codes: Sequence[str]
    ) -> tuple[dict[str, Station], dict[str, StationGroup]]:
        found = await self._in(
            select(t.station, t.station_group).select_from(_WITH_GROUP),
            t.station.c.code,
            codes,
            _STATIONS_WITH_GROUPS,
            by_position=True,
        )
        stations: dict[str, Station] = {}
        groups: dict[str, StationGroup] = {}
        for station, group in split_rows(found, t.station, t.station_group):
            stations[station.code] = rows.station_from_row(station)
            if group is not None:
                groups[group.code] = rows.group_from_row(group)
        return stations, groups

    async def stations(self, codes: Sequence[str]) -> dict[str, Station]:
        found = await self._in(select(t.station), t.station.c.code, codes, keyed(t.station, "code"))
        return {r.code: rows.station_from_row(r) for r in found}

    async def _stations_by(self, column: Any, codes: Sequence[str]) -> dict[str, list[Station]]:
        found = await self._in(select(t.station).order_by(t.station.c.code), column, codes)
        grouped: dict[str, list[Station]] = defaultdict(list)
        for r in found:
            grouped[r._mapping[column.name]].append(rows.station_from_row(r))
        return grouped

    async def stations_of_lines(self, codes: Sequence[str]) -> dict[str, list[Station]]:
        return await self._stations_by(t.station.c.line_code, codes)

    async def stations_of_groups(self, codes: Sequence[str]) -> dict[str, list[Station]]:
        return await self._stations_by(t.station.c.group_code, codes)

    async def operations(self, codes: Sequence[str]) -> dict[str, Operation]:
        found = await self._in(select(t.operation), t.operation.c.code, codes)
        return {r.code: rows.operation_from_row(r) for r in found}

    async def specs_of_operations(
        self, codes: Sequence[str]
    ) -> dict[str, list[DataCollectionSpec]]:
        found = await self._in(
            select(t.data_spec).order_by(t.data_spec.c.id), t.data_spec.c.operation_code, codes
        )
        return grouped(found, "operation_code", rows.spec_from_row)

    async def routings(self, codes: Sequence[str]) -> dict[str, Routing]:
        heads = await self._in(select(t.routing), t.routing.c.code, codes)
        steps = await self._in(
            select(t.routing_step).order_by(t.routing_step.c.position),
            t.routing_step.c.routing_code,
            [h.code for h in heads],
        )
        by_routing: dict[str, list[RoutingStep]] = defaultdict(list)
        for s in steps:
            by_routing[s.routing_code].append(RoutingStep(s.step_no, s.operation_code))
        return {
            h.code: Routing(
                code=h.code,
                name=h.name,
                source_system=h.source_system,
                source_key=h.source_key,
                product_code=h.product_code,
                is_active=h.is_active,
                steps=tuple(by_routing[h.code]),
            )
            for h in heads
        }

    async def versions_of_routings(self, codes: Sequence[str]) -> dict[str, list[RouteVersion]]:
        found = await self._in(
            select(t.route_version).order_by(t.route_version.c.version_no),
            t.route_version.c.routing_code,
            codes,
        )
        return grouped(found, "routing_code", self._version)

    async def route_versions(self, ids: Sequence[int]) -> dict[int, RouteVersion]:
        out = {i: self.versions[i] for i in ids if i in self.versions}
        missing = [i for i in ids if i not in out]
        if missing:
            found = await self._in(select(t.route_version), t.route_version.c.id, missing)
            out.update((r.id, self._version(r)) for r in found)
        return out

    def _version(self, r: Any) -> RouteVersion:
        if r.id in self.versions:
            return self.versions[r.id]
        version = rows.version_from_row(r)
        self.versions.put(version)
        return version

    async def route_versions_by_no(
        self, keys: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], RouteVersion]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        rv = t.route_version
        out: dict[tuple[str, int], RouteVersion] = {}
        for i in range(0, len(keys), CHUNK):
            part = keys[i : i + CHUNK]
            cond = or_(*(and_(rv.c.routing_code == c, rv.c.version_no == n) for c, n in part))
            for r in await self._rows(select(rv).where(cond)):
                out[(r.routing_code, r.version_no)] = self._version(r)
        return out
