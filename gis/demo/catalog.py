"""Which real counties, streets and communities the demo prefecture is made of.

Codes and names come from the 2023 national statistical division codes of Changji
Hui Autonomous Prefecture (652300), shipped in ``gis/demo/data``. Streets with a code
sequence of 400 or more (management committees, XPCC farms) and communities numbered
400 or more are left out: they are not ordinary residents' committees or villages.
Past the real codes (scale above about 6) synthetic counties 652391… are added and
named 示范县 N, so that nobody mistakes them for real places.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from gis.errors import InvalidInput

__all__ = [
    "COUNTIES",
    "PREFECTURE",
    "Community",
    "County",
    "Street",
    "select_counties",
]

PREFECTURE = ("652300000000", "昌吉回族自治州")

# County seats (lon, lat), approximate, from public maps.
COUNTIES: dict[str, tuple[str, tuple[float, float]]] = {
    "652301": ("昌吉市", (87.304, 44.013)),
    "652323": ("呼图壁县", (86.871, 44.191)),
    "652302": ("阜康市", (87.983, 44.155)),
    "652324": ("玛纳斯县", (86.217, 44.305)),
    "652327": ("吉木萨尔县", (89.181, 44.000)),
    "652325": ("奇台县", (89.593, 44.022)),
    "652328": ("木垒哈萨克自治县", (90.286, 43.834)),
}

STREETS_PER_SCALE = 18
COMMUNITIES_PER_SCALE = 150
FIRST_COUNTY_SHARE = 0.6


@dataclass(frozen=True)
class Community:
    code: str  # 12 digits
    name: str

    @property
    def is_village(self) -> bool:
        """村委会 (sequence 200–399) rather than 居委会/社区 (001–199)."""
        return int(self.code[9:]) >= 200


@dataclass
class Street:
    code: str  # 12 digits, ends in 000
    name: str
    communities: list[Community] = field(default_factory=list)

    @property
    def is_urban(self) -> bool:
        """街道 (sequence 001–099) rather than 镇/乡."""
        return int(self.code[6:9]) < 100


@dataclass
class County:
    code: str  # 12 digits
    name: str
    seat: tuple[float, float]
    streets: list[Street] = field(default_factory=list)
    synthetic: bool = False

    @property
    def communities(self) -> list[Community]:
        return [c for s in self.streets for c in s.communities]


def _short(name: str) -> str:
    for suffix, short in (("居民委员会", ""), ("村民委员会", ""), ("委员会", "")):
        if name.endswith(suffix):
            name = name[: -len(suffix)] + short
    return name


@cache
def _real_streets() -> dict[str, list[Street]]:
    data = resources.files("gis.demo") / "data"
    streets: dict[str, Street] = {}
    with (data / "streets_changji_652300.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if int(row["code"][6:9]) >= 400:
                continue
            streets[row["code"]] = Street(row["code"] + "000", row["name"])
    with (data / "villages_changji_652300.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            street = streets.get(row["streetCode"])
            if street is not None and int(row["code"][9:]) < 400:
                street.communities.append(Community(row["code"], _short(row["name"])))
    by_county: dict[str, list[Street]] = {}
    for code in sorted(streets):
        street = streets[code]
        if street.communities:
            by_county.setdefault(code[:6], []).append(street)
    return by_county


def _fresh(street: Street) -> Street:
    return Street(street.code, street.name, list(street.communities))


def _synthetic_county(index: int, lon_lat: tuple[float, float]) -> County:
    code6 = f"6523{90 + index:02d}"
    county = County(code6 + "000000", f"示范县{index}", lon_lat, synthetic=True)
    for s in range(1, 4):
        street = Street(f"{code6}{s:03d}000", f"示范{index}县第{s}街道")
        street.communities = [
            Community(f"{code6}{s:03d}{c:03d}", f"示范{index}-{s}街道第{c}社区")
            for c in range(1, 13)
        ]
        county.streets.append(street)
    for t in range(1, 11):
        street = Street(f"{code6}{100 + t:03d}000", f"示范{index}县第{t}镇")
        street.communities = [
            Community(f"{code6}{100 + t:03d}001", f"示范{index}-{t}镇社区"),
            *(
                Community(f"{code6}{100 + t:03d}{200 + v:03d}", f"示范{index}-{t}镇第{v}村")
                for v in range(1, 9)
            ),
        ]
        county.streets.append(street)
    return county


def _synthetic_seat(index: int) -> tuple[float, float]:
    # on a ring north of the real counties, 60 km apart, in the Junggar plain
    angle = math.radians(200 + 25 * index)
    return (88.3 + 1.4 * math.cos(angle), 44.9 + 0.5 * math.sin(angle))


def select_counties(scale: int, counties: list[str] | None = None) -> list[County]:
    """Counties, streets and communities for a prefecture of ``scale`` (1 = about 150
    communities in at least 18 streets); deterministic.

    ``counties`` (six-digit codes) chooses which real counties to draw from, first the
    main one; by default all of them in the order of :data:`COUNTIES`.
    """
    if scale < 1:
        raise InvalidInput(f"--scale must be a whole number of at least 1, not {scale}")
    order = list(COUNTIES) if not counties else [c[:6] for c in counties]
    unknown = [c for c in order if c not in COUNTIES]
    if unknown:
        known = ", ".join(f"{code} {name}" for code, (name, _) in COUNTIES.items())
        raise InvalidInput(f"unknown county code {', '.join(unknown)}; the demo knows: {known}")
    want_communities = COMMUNITIES_PER_SCALE * scale
    want_streets = STREETS_PER_SCALE * scale
    real = _real_streets()
    chosen = {c: County(c + "000000", COUNTIES[c][0], COUNTIES[c][1]) for c in order}
    unused = {c: list(real.get(c, [])) for c in order}

    def taken() -> tuple[int, int]:
        parts = [len(s.communities) for cty in chosen.values() for s in cty.streets]
        return sum(parts), len(parts)

    # pass 1: each county takes a share of what is still missing
    for code6 in order:
        remaining = want_communities - taken()[0]
        if remaining <= 0.05 * want_communities:
            break
        quota = math.ceil(remaining * FIRST_COUNTY_SHARE) if code6 != order[-1] else remaining
        in_county = 0
        while unused[code6] and in_county < quota:
            street = unused[code6].pop(0)
            chosen[code6].streets.append(_fresh(street))
            in_county += len(street.communities)
    # pass 2: enough streets, the smallest first, from counties already in the demo
    while taken()[1] < want_streets:
        pool = [
            (len(st.communities), st.code, c)
            for c in order
            for st in unused[c]
            if chosen[c].streets
        ] or [(len(st.communities), st.code, c) for c in order for st in unused[c]]
        if not pool:
            break
        _, street_code, c = min(pool)
        street = next(st for st in unused[c] if st.code == street_code)
        unused[c].remove(street)
        chosen[c].streets.append(_fresh(street))
        chosen[c].streets.sort(key=lambda st: st.code)
    result = [county for county in chosen.values() if county.streets]
    # pass 3: synthetic counties past the real codes
    index = 1
    while taken()[0] < want_communities or taken()[1] < want_streets:
        county = _synthetic_county(index, _synthetic_seat(index))
        chosen[county.code[:6]] = county
        result.append(county)
        index += 1
    return result


def county_codes() -> list[str]:
    """The real county codes the demo knows (six digits)."""
    return list(COUNTIES)
