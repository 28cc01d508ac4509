"""Generate the demo prefecture: regions, grids, people and places, planted defects.

Deterministic for a seed: every county draws from its own random stream (seed, county).
Geometry is built per county in a local transverse Mercator frame (metres) and turned
into EPSG:4326 longitude/latitude at the end.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import shapely
from pyproj import Transformer

from gis.codes import grid_code, sequence_order
from gis.demo.catalog import PREFECTURE, County, select_counties
from gis.demo.defects import (
    DEFECTS_PER_SCALE,
    Planted,
    adjacent_pairs,
    plant_geometry,
    split_building,
)
from gis.demo.graph import apportion
from gis.demo.grids import GridDraft, allocate, draw_grids, split_atoms
from gis.demo.layout import CountyLayout, layout_county
from gis.demo.names import Namer
from gis.demo.plant_people import plant_people
from gis.demo.populate import BuildingRow, CountyPeople, populate, staff_grids
from gis.demo.roads import roads

__all__ = ["GENERATOR_VERSION", "DemoData", "generate"]

GENERATOR_VERSION = 1
PRECISION = 1e-9
BAND = {("geographic", True): (300, 500), ("geographic", False): (200, 400)}


@dataclass
class DemoData:
    """Everything the demo writes, geometries in EPSG:4326."""

    seed: int
    scale: int
    regions: list[dict[str, Any]] = field(default_factory=list)
    grids: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[dict[str, Any]] = field(default_factory=list)
    roads: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    branches: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    defects: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        levels = Counter(r["level"] for r in self.regions)
        kinds = Counter(g["kind"] for g in self.grids)
        return {
            "regions": dict(sorted(levels.items())),
            "grids": len(self.grids),
            "grids_by_kind": dict(sorted(kinds.items())),
            "households": sum(g["households"] for g in self.grids),
            "population": sum(g["population"] for g in self.grids),
            "buildings": len(self.buildings),
            "roads": len(self.roads),
            "police_posts": len(self.posts),
            "organizations": len(self.organizations),
            "party_branches": len(self.branches),
            "workers": len(self.workers),
            "service_teams": len(self.teams),
        }

    def manifest(self) -> dict[str, Any]:
        """What was generated and every planted defect: the truth audits are checked against."""
        by_kind = Counter(d["kind"] for d in self.defects)
        return {
            "generator_version": GENERATOR_VERSION,
            "seed": self.seed,
            "scale": self.scale,
            "crs": "EPSG:4326",
            "counts": self.counts(),
            "defect_counts": dict(sorted(by_kind.items())),
            "defects": self.defects,
        }


def _frame(county: County) -> Transformer:
    lon, lat = county.seat
    local = f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    return Transformer.from_crs(local, "EPSG:4326", always_xy=True)


def _split_counts(total: dict[str, int], shares: list[float]) -> list[dict[str, int]]:
    out: list[dict[str, int]] = [{} for _ in shares]
    for kind, n in total.items():
        for i, v in enumerate(apportion(np.array(shares), n)):
            out[i][kind] = int(v)
    return out


def _name_grids(county: County, layout: CountyLayout, grids: list[GridDraft], namer: Namer) -> None:
    """Codes west→east, north→south per community, and names."""
    for comm_index, comm in enumerate(county.communities):
        members = [g for g in grids if g.community == comm_index]
        if not members:
            continue
        area = sum(g.geom.area for g in members)
        band = math.sqrt(area / len(members))
        points = [(g.geom.centroid.x, g.geom.centroid.y) for g in members]
        geo_n = 0
        for seq, idx in enumerate(sequence_order(points, band), start=1):
            g = members[idx]
            g.code = grid_code(comm.code, seq)
            if g.kind == "geographic":
                geo_n += 1
                g.name = f"{comm.name}第{geo_n}网格"
            elif g.kind == "unit":
                g.name = f"{namer.estate()}网格"
            else:
                g.name = f"{g.name or comm.name + '单位'}网格"


def generate(seed: int = 42, scale: int = 1, counties: list[str] | None = None) -> DemoData:
    """The demo prefecture for ``seed`` and ``scale`` (see :func:`select_counties`)."""
    selection = select_counties(scale, counties)
    data = DemoData(seed, scale)
    defect_totals = {k: v * scale for k, v in DEFECTS_PER_SCALE.items()}
    # geometric defects want room: most go to the main county
    shares = [len(c.communities) * (3.0 if i == 0 else 1.0) for i, c in enumerate(selection)]
    per_county = _split_counts(defect_totals, shares)
    county_geoms = []
    for county, wanted in zip(selection, per_county, strict=True):
        rng = np.random.default_rng([seed, int(county.code[:6])])
        namer = Namer(rng)
        county_geoms.append(_county(county, wanted, rng, namer, data))
    pref = shapely.union_all(county_geoms)
    data.regions.insert(
        0,
        {
            "code": PREFECTURE[0],
            "name": PREFECTURE[1],
            "level": "prefecture",
            "parent_code": None,
            "urban": True,
            "households": sum(r["households"] for r in data.regions if r["level"] == "county"),
            "population": sum(r["population"] for r in data.regions if r["level"] == "county"),
            "geom": pref,
        },
    )
    return data


def _county(
    county: County, wanted: dict[str, int], rng: np.random.Generator, namer: Namer, data: DemoData
) -> shapely.Geometry:
    layout = layout_county(county, rng)
    share = len(county.communities) / 150
    counts = allocate(county, layout, share, rng)
    split_atoms(layout, counts.sum(axis=1) + 2)
    grids = draw_grids(county, layout, counts, rng)
    planted = plant_geometry(layout, grids, wanted, rng)
    targets = _out_of_band(county, grids, planted, wanted.get("households_out_of_band", 0), rng)
    people = populate(county, layout, grids, targets, planted.vacant_atoms, namer, share, rng)
    _split_buildings(county, layout, grids, people, planted, wanted.get("building_split", 0), rng)
    staff_grids(grids, people, namer, rng)  # after every household is placed
    plant_people(layout, grids, people, planted, wanted, rng)
    _name_grids(county, layout, grids, namer)
    return _emit(county, layout, grids, people, planted, namer, data)


def _out_of_band(
    county: County, grids: list[GridDraft], planted: Planted, n: int, rng: np.random.Generator
) -> dict[int, int]:
    targets: dict[int, int] = {}
    for gi in rng.permutation(len(grids)).tolist():
        if len(targets) == n:
            break
        g = grids[gi]
        if g.kind != "geographic" or gi in planted.used_grids:
            continue
        urban = not county.communities[g.community].is_village
        lo, hi = BAND[("geographic", urban)]
        high = len(targets) % 3 != 2
        value = (
            int(rng.integers(hi + 60, hi + 180)) if high else int(rng.integers(lo // 2, lo - 50))
        )
        targets[gi] = value
        planted.add("households_out_of_band", [gi], None, band=[lo, hi], high=high)
    return targets


def _split_buildings(
    county: County,
    layout: CountyLayout,
    grids: list[GridDraft],
    people: CountyPeople,
    planted: Planted,
    n: int,
    rng: np.random.Generator,
) -> None:
    pairs = adjacent_pairs(layout, grids, same_community=True, min_length=80)
    rng.shuffle(pairs)
    done = 0
    for i, j, _ in pairs:
        if done == n:
            break
        if i in planted.used_grids or j in planted.used_grids:
            continue
        if grids[i].kind == "organization" or grids[j].kind == "organization":
            continue
        footprint = split_building(grids[i], grids[j], 0.6)
        if not grids[i].geom.intersects(footprint) or footprint.intersects(
            shapely.union_all([b.geom for b in people.buildings if b.grid in (i, j)])
        ):
            continue
        households = int(rng.integers(4, 13))
        population = round(households * 2.8)
        people.buildings.append(BuildingRow(footprint, "residential", households, population, 3, i))
        grids[i].households += households
        grids[i].population += population
        share_i = footprint.intersection(grids[i].geom).area / footprint.area
        planted.add(
            "building_split", [i, j], footprint, shares=[round(share_i, 3), round(1 - share_i, 3)]
        )
        done += 1


def _clean(geom: shapely.Geometry) -> shapely.Geometry:
    """Valid, on a 1e-9° grid (0.1 mm): removes crossings that reprojection may create in
    near-touching edges, and keeps shared edges identical on both sides."""
    if not geom.is_valid:
        fixed = shapely.make_valid(geom)
        geom = shapely.union_all([p for p in shapely.get_parts(fixed) if p.geom_type == "Polygon"])
    return shapely.set_precision(geom, PRECISION)


def _multi(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type == "Polygon":
        return shapely.multipolygons([geom])
    return geom


def _emit(
    county: County,
    layout: CountyLayout,
    grids: list[GridDraft],
    people: CountyPeople,
    planted: Planted,
    namer: Namer,
    data: DemoData,
) -> shapely.Geometry:
    """Turn the county into rows in EPSG:4326; the county outline is returned."""
    frame = _frame(county)

    def ll(geoms: list[shapely.Geometry], polygons: bool = False) -> list[shapely.Geometry]:
        """Reproject many geometries in one call; polygons are made exact to 1e-9°."""
        arr = shapely.transform(
            np.asarray(geoms, dtype=object),
            lambda xy: np.column_stack(frame.transform(xy[:, 0], xy[:, 1])),
        )
        if not polygons:
            return list(arr)
        return [_multi(_clean(g)) for g in arr]

    comms = county.communities
    comm_geoms = [shapely.union_all(layout.atoms[layout.community == k]) for k in range(len(comms))]
    hh = np.zeros(len(comms), dtype=int)
    pop = np.zeros(len(comms), dtype=int)
    for g in grids:
        hh[g.community] += g.households
        pop[g.community] += g.population
    county_hh = county_pop = 0
    street_geoms = []
    base = 0
    rows: list[dict[str, Any]] = []
    for st in county.streets:
        idx = list(range(base, base + len(st.communities)))
        base += len(st.communities)
        geom = shapely.union_all([comm_geoms[i] for i in idx])
        street_geoms.append(geom)
        s_hh, s_pop = int(hh[idx].sum()), int(pop[idx].sum())
        county_hh += s_hh
        county_pop += s_pop
        rows.append(
            {
                "code": st.code,
                "name": st.name,
                "level": "street",
                "parent_code": county.code,
                "urban": st.is_urban,
                "households": s_hh,
                "population": s_pop,
                "geom": geom,
            }
        )
        for i in idx:
            rows.append(
                {
                    "code": comms[i].code,
                    "name": comms[i].name,
                    "level": "community",
                    "parent_code": st.code,
                    "urban": not comms[i].is_village,
                    "households": int(hh[i]),
                    "population": int(pop[i]),
                    "geom": comm_geoms[i],
                }
            )
    county_geom = shapely.union_all(street_geoms)
    rows.insert(
        0,
        {
            "code": county.code,
            "name": county.name,
            "level": "county",
            "parent_code": PREFECTURE[0],
            "urban": True,
            "households": county_hh,
            "population": county_pop,
            "geom": county_geom,
        },
    )
    for row, geom in zip(rows, ll([r["geom"] for r in rows], polygons=True), strict=True):
        row["geom"] = geom
    data.regions += rows
    for g, geom in zip(grids, ll([g.geom for g in grids], polygons=True), strict=True):
        data.grids.append(
            {
                "code": g.code,
                "name": g.name,
                "kind": g.kind,
                "community_code": comms[g.community].code,
                "households": g.households,
                "population": g.population,
                "geom": geom,
            }
        )
    code_of = [g.code for g in grids]
    footprints = ll([b.geom for b in people.buildings])
    for b, geom in zip(people.buildings, footprints, strict=True):
        data.buildings.append(
            {
                "use": b.use,
                "households": b.households,
                "population": b.population,
                "floors": b.floors,
                "geom": _multi(geom),
            }
        )
    road_rows = roads(layout, namer)
    for (cls, name, _), geom in zip(road_rows, ll([r[2] for r in road_rows]), strict=True):
        data.roads.append({"class": cls, "name": name or None, "geom": geom})
    posts = sorted(people.posts, key=lambda p: (code_of[p.grid], p.kind))
    post_points = ll([p.geom for p in posts])
    for n, (post, point) in enumerate(zip(posts, post_points, strict=True), 1):
        label = "警务站" if post.kind == "station" else "警务室"
        data.posts.append(
            {
                "code": f"{county.code[:6]}JW{n:05d}",
                "name": f"{grids[post.grid].name.removesuffix('网格')}{label}",
                "kind": post.kind,
                "staff": post.staff,
                "grid_code": code_of[post.grid],
                "geom": point,
            }
        )
    org_base = len(data.organizations)
    for org, point in zip(people.orgs, ll([o.geom for o in people.orgs]), strict=True):
        data.organizations.append(
            {
                "name": org.name,
                "category": org.category,
                "employees": org.employees,
                "party_members": org.party_members,
                "grid_code": code_of[org.grid] if org.grid is not None else None,
                "geom": point,
            }
        )
    for gi, name, role, phone in people.workers:
        data.workers.append({"grid_code": code_of[gi], "name": name, "role": role, "phone": phone})
    for gi, _, members, secretary in people.branches:
        data.branches.append(
            {
                "grid_code": code_of[gi],
                "name": f"{grids[gi].name.removesuffix('网格')}网格党支部",
                "members": members,
                "secretary": secretary,
            }
        )
    for gi, _, volunteers, leader in people.teams:
        data.teams.append(
            {
                "grid_code": code_of[gi],
                "name": f"{grids[gi].name.removesuffix('网格')}网格志愿服务队",
                "volunteers": volunteers,
                "leader": leader,
            }
        )
    owner_comm = {g.code: comms[g.community].code for g in grids}
    for rec in planted.records:
        entry: dict[str, Any] = {
            "kind": rec["kind"],
            "county": county.code,
            "grids": [code_of[i] for i in rec["grids"]],
        }
        entry["communities"] = sorted({owner_comm[c] for c in entry["grids"]})
        geom = rec.get("geom")
        if geom is not None:
            if geom.geom_type in ("Polygon", "MultiPolygon"):
                entry["area_m2"] = round(geom.area, 3)
            entry["geometry"] = shapely.geometry.mapping(ll([geom])[0])
        for key, value in rec.items():
            if key in ("kind", "grids", "geom", "atom"):
                continue
            if key == "org":
                entry["organization_index"] = org_base + int(value)
            elif key in ("beside", "stands_in", "assigned_to"):
                entry[key] = code_of[int(value)]
            elif key == "blind_spot_of":
                entry[key] = [code_of[int(v)] for v in value]
            else:
                entry[key] = value
        if rec["kind"] == "blind_spot" and not rec.get("sliver"):
            entry["sliver"] = False
        data.defects.append(entry)
    return ll([county_geom], polygons=True)[0]
