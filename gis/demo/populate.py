"""People and places of one county: buildings and households, organizations, police
posts, grid workers, party branches and volunteer teams.

Households are decided per grid first (inside the profile's band unless a defect says
otherwise) and then shared out over the grid's residential buildings in proportion to
their floor area, so a grid's households are exactly the households of the buildings
standing in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import shapely

from gis.demo import buildings as bld
from gis.demo.catalog import County
from gis.demo.graph import apportion
from gis.demo.grids import GridDraft
from gis.demo.layout import CountyLayout
from gis.demo.names import Namer

__all__ = [
    "BuildingRow",
    "CountyPeople",
    "OrgRow",
    "PostRow",
    "households_target",
    "populate",
    "staff_grids",
]

ORGS_PER_150_COMMUNITIES = 13_600
ORG_WEIGHT = {"geo_urban": 16.0, "geo_rural": 4.0, "unit": 5.0, "organization": 1.0}


@dataclass
class BuildingRow:
    geom: shapely.Geometry
    use: str
    households: int
    population: int
    floors: int
    grid: int  # index of the grid it stands in


@dataclass
class OrgRow:
    name: str
    category: str
    employees: int
    party_members: int
    grid: int | None  # the grid it is assigned to
    geom: shapely.Geometry


@dataclass
class PostRow:
    name: str
    kind: str
    staff: int
    grid: int
    geom: shapely.Geometry


@dataclass
class CountyPeople:
    buildings: list[BuildingRow] = field(default_factory=list)
    orgs: list[OrgRow] = field(default_factory=list)
    posts: list[PostRow] = field(default_factory=list)
    workers: list[tuple[int, str, str, str]] = field(
        default_factory=list
    )  # grid, name, role, phone
    branches: list[tuple[int, str, int, str]] = field(
        default_factory=list
    )  # grid, name, members, secretary
    teams: list[tuple[int, str, int, str]] = field(
        default_factory=list
    )  # grid, name, volunteers, leader


def households_target(kind: str, urban: bool, rng: np.random.Generator) -> int:
    """Households of a grid that meets the default standards profile."""
    if kind == "geographic":
        return int(rng.integers(330, 471) if urban else rng.integers(230, 371))
    if kind == "unit":
        return int(rng.integers(120, 461))
    return int(rng.integers(10, 61)) if rng.random() < 0.3 else 0


def _footprints(
    g: GridDraft, urban: bool, layout: CountyLayout, vacant: set[int], rng: np.random.Generator
) -> tuple[list[shapely.Geometry], np.ndarray, str]:
    """Footprints of a grid's blocks, their home capacity and their use."""
    polys: list[shapely.Geometry] = []
    caps: list[np.ndarray] = []
    use = "residential"
    atoms = [a for a in g.atoms if a not in vacant]
    if g.kind == "unit":
        for a in atoms:
            f, c = bld.estate(layout.atoms[a], rng)
            polys += list(f)
            caps.append(c)
    elif g.kind == "organization":
        use = "public"
        for a in atoms:
            f, c = bld.campus(layout.atoms[a], rng)
            polys += list(f)
            caps.append(np.full(len(f), 1.0))
    elif urban:
        for a in atoms:
            f, c = bld.street_front(layout.atoms[a], rng)
            polys += list(f)
            caps.append(c)
    else:
        # a village grid: one or two hamlets near its middle, fields elsewhere
        centre = shapely.centroid(shapely.union_all(layout.atoms[atoms])) if atoms else None
        by_distance = sorted(atoms, key=lambda a: layout.atoms[a].centroid.distance(centre))
        hamlets = by_distance[: 1 + (len(atoms) > 4)]
        for a in atoms:
            if a in hamlets:
                f, c = bld.hamlet(layout.atoms[a], 220 // len(hamlets), rng)
            else:
                f, c = bld.farmland(layout.atoms[a], rng)
            polys += list(f)
            caps.append(c)
    cap = np.concatenate(caps) if caps else np.zeros(0)
    if not polys and atoms:
        # a block too small for the usual pattern still gets one building
        biggest = max(atoms, key=lambda a: layout.atoms[a].area)
        f, c = bld.single(layout.atoms[biggest])
        polys, cap = list(f), c
    return polys, cap, use


def populate(
    county: County,
    layout: CountyLayout,
    grids: list[GridDraft],
    targets: dict[int, int],
    vacant: set[int],
    namer: Namer,
    share: float,
    rng: np.random.Generator,
) -> CountyPeople:
    """Buildings, organizations, posts and staff for every grid of the county."""
    people = CountyPeople()
    comms = county.communities
    for gi, g in enumerate(grids):
        urban = not comms[g.community].is_village
        polys, cap, use = _footprints(g, urban, layout, vacant, rng)
        target = targets.get(gi, households_target(g.kind, urban, rng))
        if g.kind == "organization":
            homes = apportion(cap[:1], target) if len(cap) else np.zeros(0, dtype=int)
            homes = np.concatenate([homes, np.zeros(max(len(polys) - 1, 0), dtype=int)])
        else:
            homes = apportion(cap, target) if len(cap) else np.zeros(0, dtype=int)
        g.households = int(homes.sum())
        pop_total = 0
        for poly, h in zip(polys, homes, strict=True):
            pop = round(h * rng.uniform(2.5, 3.1))
            pop_total += pop
            area = max(poly.area, 1.0)
            floors = min(max(math.ceil(h * 95 / area), 1), 33) if h else int(rng.integers(1, 6))
            building_use = use if h == 0 else "residential"
            people.buildings.append(BuildingRow(poly, building_use, int(h), pop, floors, gi))
        g.population = pop_total
    _organizations(county, layout, grids, people, namer, share, rng)
    _posts(layout, grids, people, rng)
    return people


def _point_in(poly: shapely.Geometry, rng: np.random.Generator) -> shapely.Geometry:
    inner = poly.buffer(-1.0)
    target = inner if not inner.is_empty else poly
    minx, miny, maxx, maxy = target.bounds
    for _ in range(20):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if target.contains(p):
            return p
    return target.representative_point()


def _organizations(
    county: County,
    layout: CountyLayout,
    grids: list[GridDraft],
    people: CountyPeople,
    namer: Namer,
    share: float,
    rng: np.random.Generator,
) -> None:
    comms = county.communities
    by_grid: dict[int, list[BuildingRow]] = {}
    for b in people.buildings:
        by_grid.setdefault(b.grid, []).append(b)
    weights = np.array(
        [
            ORG_WEIGHT["geo_urban" if not comms[g.community].is_village else "geo_rural"]
            if g.kind == "geographic"
            else ORG_WEIGHT[g.kind]
            for g in grids
        ]
    )
    total = round(ORGS_PER_150_COMMUNITIES * share)
    campus_count = sum(1 for g in grids if g.kind == "organization")
    per_grid = apportion(weights * rng.uniform(0.6, 1.4, len(grids)), max(total - campus_count, 0))
    for gi, g in enumerate(grids):
        place = comms[g.community].name[:2]
        homes = by_grid.get(gi, [])
        if g.kind == "organization":
            category, name = namer.campus(county.name[:2], gi % 9 + 1)
            g.name = name
            main = max(homes, key=lambda b: b.geom.area).geom if homes else g.geom
            people.orgs.append(
                OrgRow(
                    name,
                    category,
                    int(rng.integers(40, 900)),
                    int(rng.integers(3, 60)),
                    gi,
                    main.representative_point(),
                )
            )
        for _ in range(int(per_grid[gi])):
            roll = rng.random()
            if roll < 0.62:
                category, name = namer.shop()
            elif roll < 0.9:
                category, name = namer.firm(place)
            else:
                category, name = namer.social(place)
            where = homes[int(rng.integers(len(homes)))].geom if homes else g.geom
            people.orgs.append(
                OrgRow(
                    name,
                    category,
                    int(rng.integers(1, 60)),
                    int(rng.random() < 0.2),
                    gi,
                    _point_in(where, rng),
                )
            )


def _posts(
    layout: CountyLayout, grids: list[GridDraft], people: CountyPeople, rng: np.random.Generator
) -> None:
    for gi, g in enumerate(grids):
        centre = g.geom.centroid
        atom = min(g.atoms, key=lambda a: layout.atoms[a].centroid.distance(centre))
        spot = layout.atoms[atom].buffer(-15.0)
        where = (
            spot.representative_point()
            if not spot.is_empty
            else layout.atoms[atom].representative_point()
        )
        kind = "station" if g.kind == "geographic" else "room"
        people.posts.append(PostRow("", kind, int(rng.integers(2, 6)), gi, where))


def staff_grids(
    grids: list[GridDraft], people: CountyPeople, namer: Namer, rng: np.random.Generator
) -> None:
    for gi, g in enumerate(grids):
        need = max(1, math.ceil(g.households / 100))
        for k in range(need):
            role = "responsible" if k == 0 else "member"
            people.workers.append((gi, namer.person(), role, namer.phone()))
        people.teams.append((gi, "", int(rng.integers(100, 141)), namer.person()))
        if g.kind == "organization" or rng.random() < 0.27:
            people.branches.append((gi, "", int(rng.integers(3, 40)), namer.person()))
