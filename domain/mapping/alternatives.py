"""A step's ingestMapping as stored: one mapping, or `{"oneOf": [m1, m2, ...]}` whose
alternatives are tried in order (one AOI step reads both the per-board and the panel-level form
of a message). The first alternative whose units path yields a unit reads the event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.mapping.normalize import IngestMapping
from domain.mapping.paths import Path

#: the keyword whose list holds a step's alternative mappings
ONE_OF = "oneOf"


@dataclass(frozen=True, slots=True)
class StepMapping:
    """A step's mapping parsed once (cached per route version step, which never changes: the
    alternatives are frozen with the version like a single mapping)."""

    alternatives: tuple[IngestMapping, ...]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> StepMapping:
        """Parse a mapping that compile validated; raises KeyError/TypeError/ValueError on one
        it would refuse."""
        if ONE_OF not in raw:
            return cls((IngestMapping.parse(raw),))
        found = raw[ONE_OF]
        if not isinstance(found, list) or not found:
            raise ValueError("oneOf must be a non-empty list")
        if not all(isinstance(alt, dict) for alt in found):
            raise TypeError("each alternative of oneOf must be a mapping")
        return cls(tuple(IngestMapping.parse(alt, n) for n, alt in enumerate(found)))

    def pick(self, root: Any) -> IngestMapping:
        """The alternative that reads this payload: the first whose units path yields a unit,
        else the first whose carrier path yields a carrier (a carrier-only BATCH event), else
        the first (whose reading then names the path that found nothing)."""
        if len(self.alternatives) == 1:
            return self.alternatives[0]
        for mapping in self.alternatives:
            if mapping.unit_sns(root):
                return mapping
        for mapping in self.alternatives:
            if mapping.carrier_code(root) is not None:
                return mapping
        return self.alternatives[0]

    @property
    def unit_paths(self) -> list[str]:
        """The paths that look for units (or a carrier), over every alternative: what a
        refusal for finding none says it tried."""
        paths: list[Path | None] = []
        for m in self.alternatives:
            paths += [m.sn, m.sn_list, m.unit_items, m.carrier]
        return [p.text for p in paths if p is not None]
