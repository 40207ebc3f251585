"""The `measurements` of an ingest mapping: which items of a payload are measurements, how each
is named and which values it gives (DOMAIN.md §3, README "Ingest mappings").

A mapping may list several specs (a tester's test measurements and its symptoms' related
measurements); an itemsPath may flatten several `[*]` levels, and the paths inside an item may
climb them with `^.`. A name is one path or several joined with "."; `nameFallbacks` are tried
in turn when it is null; an item still without a name is skipped and counted, not refused (the
SDK's lean SPI form has no MeasurementName at all). `fields` read several values from one item.
The limits a machine sends with a value (lowLimitPath, highLimitPath, expectedPath, and
limitUnitPath when their unit is not the value's) go with each value read from the item.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.mapping.normalized import Measurement
from domain.mapping.paths import Ancestors, Path, parse_path
from domain.mapping.reading import as_code, invalid, optional_one, short
from domain.validation import finite_number

#: the keywords of the limits a machine sends with a measurement
LIMIT_KEYS = ("lowLimitPath", "highLimitPath", "expectedPath", "limitUnitPath")

#: a name: its parts' values joined with "."
NameSpec = tuple[Path, ...]


def _name_spec(spec: str | list[str]) -> NameSpec:
    return tuple(parse_path(p) for p in ([spec] if isinstance(spec, str) else spec))


def _text(name: NameSpec) -> str:
    return name[0].text if len(name) == 1 else "[" + ", ".join(p.text for p in name) + "]"


@dataclass(frozen=True, slots=True)
class MeasurementsRead:
    measurements: tuple[Measurement, ...]
    #: items skipped because no name path or fallback named them
    unnamed: int = 0


@dataclass(frozen=True, slots=True)
class MeasurementsSpec:
    items: Path
    name: NameSpec
    fallbacks: tuple[NameSpec, ...]
    value: Path | None
    #: (path in the item, suffix of the value's name)
    fields: tuple[tuple[Path, str], ...]
    unit: Path | None
    judge: Path | None
    low: Path | None = None
    high: Path | None = None
    expected: Path | None = None
    limit_unit: Path | None = None

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> MeasurementsSpec:
        """Parse one spec that compile validated."""
        unit, judge, value = spec.get("unitPath"), spec.get("judgePath"), spec.get("valuePath")
        return cls(
            items=parse_path(spec["itemsPath"]),
            name=_name_spec(spec["namePath"]),
            fallbacks=tuple(_name_spec(f) for f in spec.get("nameFallbacks") or ()),
            value=None if value is None else parse_path(value),
            fields=tuple((parse_path(p), s) for p, s in (spec.get("fields") or {}).items()),
            unit=None if unit is None else parse_path(unit),
            judge=None if judge is None else parse_path(judge),
            low=_optional_path(spec.get("lowLimitPath")),
            high=_optional_path(spec.get("highLimitPath")),
            expected=_optional_path(spec.get("expectedPath")),
            limit_unit=_optional_path(spec.get("limitUnitPath")),
        )

    def read(self, root: Any, where: str) -> MeasurementsRead:
        out: list[Measurement] = []
        unnamed = 0
        for index, (item, ancestors) in enumerate(self.items.items_in(root)):
            at = f"{where}[{index}]"
            name = self._name(item, ancestors, at)
            if name is None:
                unnamed += 1
                continue
            unit = optional_one(self.unit, item, f"measurement {name} unit", ancestors)
            judge = optional_one(self.judge, item, f"measurement {name} judge", ancestors)
            unit_text = None if unit is None else str(unit)[:50]
            judge_text = None if judge is None else str(judge)[:50]
            read = self._limits(
                Measurement(name, None, unit_text, judge_text), item, ancestors, name
            )
            if self.value is not None:
                value = _value(self.value.values(item, ancestors))
                out.append(replace(read, value=value))
            for path, suffix in self.fields:
                found = path.values(item, ancestors)
                # a field the item lacks (or sends as null) gives no value
                if found and found != [None]:
                    field_name = as_code(f"{name}.{suffix}", f"measurement {at} name", path.text)
                    out.append(replace(read, name=field_name, value=_value(found)))
        return MeasurementsRead(tuple(out), unnamed)

    def _limits(self, m: Measurement, item: Any, ancestors: Ancestors, name: str) -> Measurement:
        """The limits the item sends (none when the mapping reads none)."""
        if self.low is None and self.high is None and self.expected is None:
            return m
        unit = optional_one(self.limit_unit, item, f"measurement {name} limit unit", ancestors)
        return replace(
            m,
            low=_limit(self.low, item, ancestors, name),
            high=_limit(self.high, item, ancestors, name),
            expected=_limit(self.expected, item, ancestors, name),
            limit_unit=None if unit is None or not str(unit).strip() else str(unit).strip()[:50],
        )

    def _name(self, item: Any, ancestors: Ancestors, at: str) -> str | None:
        for spec in (self.name, *self.fallbacks):
            kind = "namePath" if spec is self.name else "nameFallbacks"
            parts: list[str] = []
            for path in spec:
                found = path.values(item, ancestors)
                if len(found) > 1:
                    raise invalid(
                        f"measurement {at}: {kind} {path.text} yielded "
                        f"{len(found)} values, expected one",
                        path=path.text,
                        item=at,
                    )
                if not found or found[0] is None:
                    break
                parts.append(as_code(found[0], f"measurement {at} name", path.text))
            else:
                if len(parts) == 1:  # the usual one-path name, checked once already
                    return parts[0]
                return as_code(".".join(parts), f"measurement {at} name", _text(spec))
        return None


def _optional_path(spec: str | None) -> Path | None:
    return None if spec is None else parse_path(spec)


def _limit(path: Path | None, item: Any, ancestors: Ancestors, name: str) -> float | None:
    """A sent limit: a finite number or numeric string; null or absent is no limit."""
    raw = optional_one(path, item, f"measurement {name} limit", ancestors)
    if raw is None or path is None:
        return None
    number = finite_number(raw)
    if number is None:
        raise invalid(
            f"measurement {name}: limit {short(raw)!r} at {path.text} is not a finite number",
            path=path.text,
            value=short(raw),
        )
    return number


def _value(found: list[Any]) -> Any:
    return found[0] if len(found) == 1 else (found or None)


def _item_paths(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, path) for every path of a spec that is read inside its items."""
    out: list[tuple[str, str]] = []
    for key in (*LIMIT_KEYS, "namePath", "valuePath", "unitPath", "judgePath"):
        value = spec.get(key)
        out += [(key, p) for p in ([value] if isinstance(value, str) else value or ())]
    for n, fallback in enumerate(spec.get("nameFallbacks") or ()):
        parts = [fallback] if isinstance(fallback, str) else fallback
        out += [(f"nameFallbacks.{n}", p) for p in parts]
    out += [(f"fields.{p}", p) for p in spec.get("fields") or {}]
    return out


def climb_problems(spec: dict[str, Any], where: str) -> list[str]:
    """Where a schema-valid spec's `^.` paths climb more `[*]` levels than its itemsPath has
    (they would never find anything), or its itemsPath climbs at all."""
    items = parse_path(spec["itemsPath"])
    if items.up:
        return [f"{where}.itemsPath: ^. climbs only in the paths inside an item"]
    return [
        f"{where}.{key}: {path} climbs {parse_path(path).up} [*] levels, but itemsPath "
        f"{items.text} has {items.levels}"
        for key, path in _item_paths(spec)
        if parse_path(path).up > items.levels
    ]


def parse_measurements(spec: Any) -> tuple[MeasurementsSpec, ...]:
    """A mapping's `measurements`: one spec or a list of them (none when absent)."""
    if isinstance(spec, dict):
        return (MeasurementsSpec.parse(spec),)
    if isinstance(spec, list):
        return tuple(MeasurementsSpec.parse(s) for s in spec)
    return ()


def read_measurements(
    specs: tuple[MeasurementsSpec, ...], root: Any, where: str
) -> MeasurementsRead:
    """Every spec's measurements in turn, and how many items none could name."""
    if len(specs) == 1:
        return specs[0].read(root, where)
    reads = [spec.read(root, f"{where}[{k}]") for k, spec in enumerate(specs)]
    return MeasurementsRead(
        tuple(m for r in reads for m in r.measurements), sum(r.unnamed for r in reads)
    )
