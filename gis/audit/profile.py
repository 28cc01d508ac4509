"""The standards profile: which rules an audit checks, with which thresholds and severity.

A profile is a YAML file validated with pydantic; the default ships with gridgov
(``default_profile.yaml``). Unknown keys, wrong types and negative thresholds are
errors that name the key and its line.

>>> profile = default_profile()
>>> profile.rules.workload.bands["geographic_urban"]
(300, 500)
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gis.errors import InvalidInput

__all__ = ["Profile", "Rule", "default_profile", "load_profile", "parse_profile"]

Severity = Literal["error", "warning"]
GridKind = Literal["geographic", "unit", "organization"]
_ORGANIZATION_ONLY: list[GridKind] = ["organization"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    severity: Severity = "error"


class SliverRule(Rule):
    sliver_area_m2: float = Field(default=1.0, ge=0)
    sliver_width_m: float = Field(default=0.5, ge=0)


class SpillRule(Rule):
    sliver_area_m2: float = Field(default=1.0, ge=0)


class GeometryRule(Rule):
    allow_multipart: bool = False


class CodesRule(Rule):
    sequence_digits: int = Field(default=3, ge=1, le=6)


class BuildingsRule(Rule):
    min_share: float = Field(default=0.01, ge=0, le=0.5)


class PoliceRule(Rule):
    posts_per_grid: int = Field(default=1, ge=1)
    service_radius_m: float = Field(default=1000.0, gt=0)


class WorkloadRule(Rule):
    bands: dict[
        Literal["geographic_urban", "geographic_rural", "unit", "organization"], tuple[int, int]
    ] = Field(default_factory=dict)
    unit_severity: Severity = "warning"
    max_population: int = Field(default=2500, ge=0)

    @field_validator("bands")
    @classmethod
    def _bands_ordered(cls, bands: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for key, (low, high) in bands.items():
            if low < 0 or high < low:
                raise ValueError(f"band {key} must be [min, max] with 0 <= min <= max")
        return bands


class StaffingRule(Rule):
    households_per_worker: int = Field(default=100, ge=1)
    min_workers_per_grid: int = Field(default=1, ge=0)


class TeamsRule(Rule):
    min_volunteers: int = Field(default=100, ge=0)


class BranchesRule(Rule):
    required_for: list[GridKind] = Field(default_factory=lambda: _ORGANIZATION_ONLY.copy())


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    blind_spots: SliverRule = SliverRule()
    overlaps: SliverRule = SliverRule()
    spill: SpillRule = SpillRule()
    geometry: GeometryRule = GeometryRule()
    codes: CodesRule = CodesRule()
    buildings_split: BuildingsRule = BuildingsRule()
    organizations: Rule = Rule()
    police_posts: PoliceRule = PoliceRule()
    workload: WorkloadRule = WorkloadRule()
    staffing: StaffingRule = StaffingRule()
    service_teams: TeamsRule = TeamsRule()
    party_branches: BranchesRule = BranchesRule()


class Profile(BaseModel):
    """A standards profile: a name and the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    description: str = ""
    rules: Rules = Rules()

    def enabled(self) -> list[str]:
        return [name for name in Rules.model_fields if getattr(self.rules, name).enabled]

    def only(self, *rules: str) -> Profile:
        """This profile with every rule but ``rules`` switched off."""
        unknown = set(rules) - set(Rules.model_fields)
        if unknown:
            raise InvalidInput(f"unknown rule(s): {', '.join(sorted(unknown))}")
        changed = {
            name: getattr(self.rules, name).model_copy(update={"enabled": False})
            for name in Rules.model_fields
            if name not in rules
        }
        return self.model_copy(update={"rules": self.rules.model_copy(update=changed)})

    def to_yaml(self) -> str:
        return str(
            yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
        )


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Line (1-based) of every key path in a composed YAML document."""
    found = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(_lines(value, (*path, key.value)))
            found[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_lines(item, (*path, i)))
    return found


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """A profile from YAML text; :class:`InvalidInput` naming the key and line when wrong."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a profile is a mapping with `name` and `rules`")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        lines = _lines(node) if node is not None else {}
        problems = []
        for err in exc.errors():
            loc = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function"))
            )
            key = ".".join(str(p) for p in loc)
            line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
            where = f"line {line}: " if line else ""
            what = "unknown rule or setting" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{source}: {where}{key}: {what}")
        raise InvalidInput("; ".join(problems)) from None


def load_profile(path: str | Path | None = None) -> Profile:
    """The profile in ``path``, or the default one."""
    if path is None:
        return default_profile()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read the profile {p}: {exc.strerror}") from None
    return parse_profile(text, str(p))


@cache
def default_profile() -> Profile:
    text = (resources.files("gis.audit") / "default_profile.yaml").read_text(encoding="utf-8")
    return parse_profile(text, "default_profile.yaml")
