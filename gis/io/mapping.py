"""Field mappings: which source field (or template) fills which gridgov field.

A mapping is a YAML file or a dict, validated with pydantic::

    target: grids                     # optional; must agree with --as
    fields:                           # gridgov field: source field, or a template
      code: "179901001{DISTRICT:0>3}{BEAT_NUM:0>3}"
      name: BEAT_NUM
    constants:                        # gridgov field: one value for every feature
      kind: geographic

A template is a Python format string over source fields (plus ``_index``, the feature's
1-based position); only plain field names are allowed inside braces. Fields that are
not mapped default to a source field of the same name (case-insensitive), if any.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import geopandas as gpd

from gis.errors import InvalidInput

__all__ = [
    "INTEGER_FIELDS",
    "TARGET_FIELDS",
    "FieldMapping",
    "Target",
    "apply_mapping",
    "load_mapping",
]

Target = Literal["regions", "grids", "posts", "organizations", "buildings"]
TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    "regions": ("code", "name", "level", "parent_code", "households", "population"),
    "grids": ("code", "name", "kind", "community_code", "households", "population"),
    "posts": ("code", "name", "kind", "staff", "grid_code"),
    "organizations": ("name", "category", "employees", "party_members", "grid_code"),
    "buildings": ("households", "population", "floors", "use"),
}
INTEGER_FIELDS = frozenset(
    {"households", "population", "staff", "employees", "party_members", "floors"}
)
INDEX = "_index"


class FieldMapping(BaseModel):
    """A validated mapping (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    target: Target | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | int] = Field(default_factory=dict)
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    encoding: str | None = None
    layer: str | None = None

    def check_target(self, target: str, where: str) -> None:
        if self.target is not None and self.target != target:
            raise InvalidInput(f"{where}: the mapping is for {self.target}, not {target}")
        allowed = TARGET_FIELDS[target]
        for key in (*self.fields, *self.constants):
            if key not in allowed:
                raise InvalidInput(
                    f"{where}: {key!r} is not a field of {target}; use {', '.join(allowed)}"
                )


def load_mapping(source: FieldMapping | dict[str, Any] | Path | str | None) -> FieldMapping:
    """A mapping from a YAML file, a dict or nothing (all defaults)."""
    if source is None:
        return FieldMapping()
    if isinstance(source, FieldMapping):
        return source
    where = "the mapping"
    if isinstance(source, (Path, str)):
        where = str(source)
        try:
            loaded = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"mapping {where}: cannot be read ({exc})") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"mapping {where}: expected keys target/fields/constants")
        source = loaded
    try:
        return FieldMapping.model_validate(source)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"mapping {where}: {detail}") from None


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, (str, bytes)) and bool(pd.isna(value)))


def _plain(value: Any) -> Any:
    """Source values as written: 12.0 → 12, NaN → None."""
    if _missing(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _column(frame: pd.DataFrame, spec: str, field: str, name: str) -> pd.Series:
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if "{" not in spec:
        if spec not in columns:
            raise InvalidInput(
                f"{name}: mapping {field}: {spec!r}: no such field in the file; it has {columns}"
            )
        return frame[spec].map(_plain)
    used = _template_fields(spec)
    for used_field in used:
        if used_field != INDEX and used_field not in columns:
            raise InvalidInput(
                f"{name}: mapping {field}: template {spec!r} names "
                f"{used_field!r}, not a field of the file; it has {columns}"
            )
    names = sorted({u for u in used if u != INDEX})
    values = []
    for position, row in enumerate(frame[names].itertuples(index=False, name=None)):
        record: dict[str, Any] = {}
        for key, raw in zip(names, row, strict=True):
            value = _plain(raw)
            record[key] = "" if value is None else value
        record[INDEX] = position + 1
        try:
            values.append(spec.format(**record))
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"{name}: feature {position}: mapping {field}: {exc}") from None
    return pd.Series(values, index=frame.index, dtype=object)


def apply_mapping(
    frame: gpd.GeoDataFrame, target: str, mapping: FieldMapping, name: str
) -> gpd.GeoDataFrame:
    """The frame's features with exactly the target's fields (None where not provided)."""
    mapping.check_target(target, name)
    lowered = {str(c).lower(): str(c) for c in frame.columns if c != frame.geometry.name}
    out = gpd.GeoDataFrame(index=frame.index, geometry=frame.geometry.values, crs=frame.crs)
    for field in TARGET_FIELDS[target]:
        if field in mapping.fields:
            column = _column(frame, mapping.fields[field], field, name)
        elif field in mapping.constants:
            column = pd.Series([mapping.constants[field]] * len(frame), index=frame.index)
        elif field in lowered:
            column = frame[lowered[field]].map(_plain)
        else:
            column = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if field in INTEGER_FIELDS:
            numbers = pd.to_numeric(column, errors="coerce")
            bad = (numbers.isna() & ~column.map(_missing)).to_numpy().nonzero()[0]
            if len(bad):
                raise InvalidInput(
                    f"{name}: feature {int(bad[0])}: {field}="
                    f"{column.iloc[int(bad[0])]!r} is not a whole number"
                )
            values: list[Any] = [None if pd.isna(v) else int(v) for v in numbers]
        else:
            values = [None if _missing(v) else str(v).strip() or None for v in column]
        out[field] = pd.Series(values, index=frame.index, dtype=object)
    return out
