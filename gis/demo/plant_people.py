"""Defects among people and places: posts, organizations, staff, branches and teams."""

from __future__ import annotations

import math

import numpy as np

import shapely

from gis.demo.defects import Planted, adjacent_pairs
from gis.demo.grids import GridDraft
from gis.demo.layout import CountyLayout
from gis.demo.populate import CountyPeople, OrgRow, PostRow

__all__ = ["plant_people"]


def _fresh_grids(
    grids: list[GridDraft],
    planted: Planted,
    rng: np.random.Generator,
    kinds: tuple[str, ...] = ("geographic", "unit", "organization"),
) -> list[int]:
    return [
        gi
        for gi in rng.permutation(len(grids)).tolist()
        if gi not in planted.used_grids and grids[gi].kind in kinds
    ]


def _posts(
    layout: CountyLayout,
    grids: list[GridDraft],
    people: CountyPeople,
    planted: Planted,
    wanted: dict[str, int],
    rng: np.random.Generator,
) -> None:
    for gi in _fresh_grids(grids, planted, rng)[: wanted.get("no_police_post", 0)]:
        people.posts = [p for p in people.posts if p.grid != gi]
        planted.add("no_police_post", [gi])
    several = [
        gi for gi in _fresh_grids(grids, planted, rng, ("geographic",)) if len(grids[gi].atoms) >= 2
    ]
    for gi in several[: wanted.get("several_police_posts", 0)]:
        first = next(p for p in people.posts if p.grid == gi)
        atom = max(grids[gi].atoms, key=lambda a: layout.atoms[a].centroid.distance(first.geom))
        spot = layout.atoms[atom].buffer(-15.0)
        where = spot.representative_point() if not spot.is_empty else layout.atoms[atom].centroid
        people.posts.append(PostRow("", "room", int(rng.integers(1, 4)), gi, where))
        planted.add("several_police_posts", [gi], posts=2)


def _organizations(
    layout: CountyLayout,
    grids: list[GridDraft],
    people: CountyPeople,
    planted: Planted,
    wanted: dict[str, int],
    rng: np.random.Generator,
) -> None:
    spots = [r for r in planted.records if r["kind"] == "blind_spot" and not r.get("sliver")]
    outside = wanted.get("org_outside_grid", 0)
    for k in range(outside if spots else 0):
        spot = spots[k % len(spots)]
        inner = spot["geom"].buffer(-12.0)
        minx, miny, maxx, maxy = inner.bounds
        for _ in range(100):
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if inner.contains(p):
                break
        people.orgs.append(
            OrgRow(f"无证经营点{k + 1}", "shop", int(rng.integers(1, 6)), 0, None, p)
        )
        planted.add(
            "org_outside_grid", [], p, org=len(people.orgs) - 1, blind_spot_of=spot["grids"]
        )
    neighbours: dict[int, list[int]] = {}
    for i, j, _ in adjacent_pairs(layout, grids, same_community=True, min_length=1):
        neighbours.setdefault(i, []).append(j)
        neighbours.setdefault(j, []).append(i)
    by_grid: dict[int, list[int]] = {}
    for oi, org in enumerate(people.orgs):
        if org.grid is not None and org.category in ("shop", "firm"):
            by_grid.setdefault(org.grid, []).append(oi)
    done = 0
    for gi in _fresh_grids(grids, planted, rng, ("geographic",)):
        if done == wanted.get("org_wrong_grid", 0):
            break
        others = [n for n in neighbours.get(gi, []) if n not in planted.used_grids]
        if not others or not by_grid.get(gi):
            continue
        oi = by_grid[gi][int(rng.integers(len(by_grid[gi])))]
        people.orgs[oi].grid = others[0]
        planted.add(
            "org_wrong_grid",
            [gi, others[0]],
            people.orgs[oi].geom,
            org=oi,
            stands_in=gi,
            assigned_to=others[0],
        )
        done += 1


def _staff(
    grids: list[GridDraft],
    people: CountyPeople,
    planted: Planted,
    wanted: dict[str, int],
    rng: np.random.Generator,
) -> None:
    big = [
        gi
        for gi in _fresh_grids(grids, planted, rng, ("geographic", "unit"))
        if grids[gi].households >= 250
    ]
    for gi in big[: wanted.get("understaffed", 0)]:
        need = math.ceil(grids[gi].households / 100)
        mine = [w for w in people.workers if w[0] == gi]
        keep = mine[: max(1, need - 2)]
        people.workers = [w for w in people.workers if w[0] != gi] + keep
        planted.add("understaffed", [gi], workers=len(keep), needed=need)
    for gi in _fresh_grids(grids, planted, rng)[: wanted.get("no_responsible_worker", 0)]:
        people.workers = [(w[0], w[1], "member", w[3]) if w[0] == gi else w for w in people.workers]
        planted.add("no_responsible_worker", [gi])
    for gi in _fresh_grids(grids, planted, rng)[: wanted.get("team_under_minimum", 0)]:
        people.teams = [
            (t[0], t[1], int(rng.integers(30, 90)), t[3]) if t[0] == gi else t for t in people.teams
        ]
        volunteers = next(t[2] for t in people.teams if t[0] == gi)
        planted.add("team_under_minimum", [gi], volunteers=volunteers)
    with_branch = {b[0] for b in people.branches}
    campuses = [
        gi for gi in _fresh_grids(grids, planted, rng, ("organization",)) if gi in with_branch
    ]
    for gi in campuses[: wanted.get("branch_missing", 0)]:
        people.branches = [b for b in people.branches if b[0] != gi]
        planted.add("branch_missing", [gi])


def plant_people(
    layout: CountyLayout,
    grids: list[GridDraft],
    people: CountyPeople,
    planted: Planted,
    wanted: dict[str, int],
    rng: np.random.Generator,
) -> None:
    """Plant the non-geometric defects; ``people`` and ``planted`` change in place."""
    _posts(layout, grids, people, planted, wanted, rng)
    _organizations(layout, grids, people, planted, wanted, rng)
    _staff(grids, people, planted, wanted, rng)
