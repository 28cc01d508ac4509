"""Imports of real public files into a scratch PostGIS database: Chicago districts and
beats (Shapefile, with a mapping), community areas (EPSG:3435), police stations (CSV),
Memphis precincts (an invalid polygon), Bubeneč buildings (GeoPackage, EPSG:3857);
idempotent re-imports, grid versions, all-or-nothing failure, GCJ-02 input, bad files,
and the CLI and HTTP front ends in real processes."""

from __future__ import annotations

import os
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml
from browser import serve
from conftest import database_url, drop_database
from sqlalchemy import Engine, text

import geopandas as gpd
import pyogrio
import shapely
from pyproj import Geod

from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from gis.errors import InvalidGeometry, InvalidInput
from gis.io import ImportRejected, import_file
from gis.io.coords import convert_frame
from tests.tokens import bearer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BEATS = DATA / "chicago" / "police_beats"
DISTRICTS = DATA / "chicago" / "police_districts"
AREAS = DATA / "chicago" / "community_areas" / "CommAreas.shp"
STATIONS = DATA / "chicago" / "police_stations_2014.csv"
PRECINCTS = DATA / "memphis" / "memphis_precincts.geojson"
BUBENEC = DATA / "bubenec" / "bubenec.gpkg"
NAME = "gridgov_io_test"
GRIDGOV = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gridgov"
STREET = "179901001000"
DISTRICT_MAPPING = {
    "fields": {"code": "179901001{DIST_NUM:0>3}", "name": "DIST_LABEL"},
    "constants": {"level": "community", "parent_code": STREET},
}
BEAT_MAPPING = {
    "fields": {"code": "179901001{DISTRICT:0>3}{_index:0>3}", "name": "BEAT_NUM"},
    "constants": {"kind": "geographic"},
}
STATION_MAPPING = {"fields": {"code": "CPD-{DISTRICT}", "name": "ADDRESS"}}


def scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def state(engine: Engine) -> tuple[object, ...]:
    """Everything an import may touch, in a few numbers."""
    tables = ("region", "grid", "grid_code", "police_post", "building", "change")
    counts = [scalar(engine, f"SELECT count(*) FROM {t}") for t in tables]
    return (*counts, scalar(engine, "SELECT coalesce(sum(version), 0) FROM grid"))


def _hull(path: Path, pad: float = 0.01) -> shapely.Geometry:
    return shapely.union_all(pyogrio.read_dataframe(path).to_crs(4326).geometry.values).buffer(pad)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated scratch database holding a synthetic hierarchy around Chicago and
    Memphis and Chicago's 23 police districts as communities (dissolved: district 31
    has 3 parts)."""
    drop_database(NAME)
    url = database_url(NAME)
    eng = create_db_engine(url)
    upgrade(eng)
    folder = tmp_path_factory.mktemp("io")
    chicago, memphis = _hull(DISTRICTS), _hull(PRECINCTS)
    rows = [
        ("179900000000", "示范市", "prefecture", None, shapely.union(chicago, memphis)),
        ("179901000000", "芝加哥县", "county", "179900000000", chicago),
        (STREET, "警区街道", "street", "179901000000", chicago),
        ("179901002000", "社区区域街道", "street", "179901000000", chicago),
        ("179902000000", "孟菲斯县", "county", "179900000000", memphis),
        ("179902001000", "孟菲斯街道", "street", "179902000000", memphis),
    ]
    hierarchy = gpd.GeoDataFrame(
        [r[:4] for r in rows],
        columns=["code", "name", "level", "parent_code"],
        geometry=[r[4] for r in rows],
        crs=4326,
    )
    hierarchy.to_file(folder / "hierarchy.geojson")
    assert import_file(eng, folder / "hierarchy.geojson", "regions").inserted == 6
    dissolved = pyogrio.read_dataframe(DISTRICTS).dissolve(by="DIST_NUM", as_index=False)
    pyogrio.write_dataframe(dissolved, folder / "districts.gpkg", driver="GPKG")
    report = import_file(eng, folder / "districts.gpkg", "regions", mapping=DISTRICT_MAPPING)
    assert report.inserted == 23
    yield eng
    eng.dispose()
    drop_database(NAME)


def test_multipart_district_is_a_duplicate_code(engine: Engine) -> None:
    before = state(engine)
    with pytest.raises(ImportRejected) as caught:
        import_file(engine, DISTRICTS, "regions", mapping=DISTRICT_MAPPING)
    assert "code 179901001031 already used by feature" in caught.value.message
    assert caught.value.message.startswith("police_districts: 2 errors, nothing imported")
    assert caught.value.report.errors == 2
    assert state(engine) == before


def test_beats_as_grids_then_reimport_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    report = import_file(engine, BEATS, "grids", mapping=BEAT_MAPPING)
    assert (report.inserted, report.updated, report.validation.errors) == (277, 0, 0)
    assert report.changes == 277
    assert scalar(engine, "SELECT count(*) FROM grid_code") == 277
    # the 141 m² piece of a district-6 beat in district 4 is under the 1 % threshold
    assert all(p.check != "crs" for p in report.validation.problems)
    before = state(engine)
    again = import_file(engine, BEATS, "grids", mapping=BEAT_MAPPING)
    assert (again.inserted, again.updated, again.unchanged, again.changes) == (0, 0, 277, 0)
    assert state(engine) == before
    # a renamed beat becomes version 2; the old version is closed, not lost
    beats = pyogrio.read_dataframe(BEATS).head(5)
    beats.loc[0, "BEAT_NUM"] = "改名的网格"
    pyogrio.write_dataframe(beats, tmp_path / "beats5.geojson")
    changed = import_file(engine, tmp_path / "beats5.geojson", "grids", mapping=BEAT_MAPPING)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 4)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT version, name, valid_to IS NULL FROM grid WHERE code = '179901001017001'")
        ).all()
        logged = conn.execute(
            text(
                "SELECT action, before->>'name', after->>'name', actor FROM change "
                "WHERE entity = 'grid' AND action = 'import.update'"
            )
        ).all()
    assert sorted(rows) == [(1, "1713", False), (2, "改名的网格", True)]
    assert logged == [("import.update", "1713", "改名的网格", "import")]


def test_community_areas_reprojected_from_us_feet(engine: Engine) -> None:
    mapping = {
        "fields": {"code": "179901002{AREA_NUMBE:0>3}", "name": "COMMUNITY"},
        "constants": {"level": "community", "parent_code": "179901002000"},
    }
    report = import_file(engine, AREAS, "regions", mapping=mapping)
    assert report.inserted == 77
    assert report.validation.crs == "EPSG:3435"
    source = pyogrio.read_dataframe(AREAS)
    us_foot = 1200 / 3937  # metres
    expected = float(source.geometry.area.sum()) * us_foot**2
    stored = scalar(
        engine,
        "SELECT sum(ST_Area(geom::geography)) FROM region WHERE parent_code = '179901002000'",
    )
    assert abs(float(stored) / expected - 1) < 0.001  # type: ignore[arg-type]


def test_stations_csv_as_posts(engine: Engine) -> None:
    report = import_file(engine, STATIONS, "posts", mapping=STATION_MAPPING)
    assert report.inserted == 23
    assert scalar(engine, "SELECT count(*) FROM police_post WHERE kind = 'station'") == 23
    lon = scalar(engine, "SELECT ST_X(geom) FROM police_post WHERE code = 'CPD-Headquarters'")
    assert abs(float(lon) + 87.623783) < 1e-9  # type: ignore[arg-type]
    again = import_file(engine, STATIONS, "posts", mapping=STATION_MAPPING)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 23)


def test_memphis_invalid_precinct_needs_repair(engine: Engine) -> None:
    mapping = {
        "fields": {"code": "179902001{_index:0>3}", "name": "precinct"},
        "constants": {"level": "community", "parent_code": "179902001000"},
    }
    before = state(engine)
    with pytest.raises(InvalidGeometry) as caught:
        import_file(engine, PRECINCTS, "regions", mapping=mapping)
    bad = [p for p in caught.value.report.problems if p.severity == "error"]  # type: ignore[attr-defined]
    assert len(bad) == 1
    message = caught.value.message
    assert f"feature {bad[0].feature} (code {bad[0].code})" in message
    assert "Self-intersection at (-89.798426" in message
    assert "--repair" in message
    assert state(engine) == before
    report = import_file(engine, PRECINCTS, "regions", mapping=mapping, repair=True)
    assert (report.inserted, report.validation.repaired) == (9, 1)
    assert scalar(engine, "SELECT bool_and(ST_IsValid(geom)) FROM region") is True


def test_bubenec_buildings_from_web_mercator(engine: Engine) -> None:
    report = import_file(engine, BUBENEC, "buildings", layer="buildings")
    assert (report.inserted, report.validation.crs) == (144, "EPSG:3857")
    x = scalar(engine, "SELECT ST_X(ST_Centroid(ST_Collect(geom))) FROM building")
    assert 14.3 < float(x) < 14.5  # type: ignore[arg-type]  # Prague, not metres
    before = state(engine)
    again = import_file(engine, BUBENEC, "buildings", layer="buildings")
    assert (again.inserted, again.unchanged) == (0, 144)
    assert state(engine) == before


def test_one_bad_feature_among_10000_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    xs, ys = np.meshgrid(np.arange(100) * 1e-4, np.arange(100) * 1e-4)
    squares = list(
        shapely.box(
            -87.7 + xs.ravel(),
            41.8 + ys.ravel(),
            -87.7 + xs.ravel() + 5e-5,
            41.8 + ys.ravel() + 5e-5,
        )
    )
    squares.insert(
        5000, shapely.Polygon([(-87.6, 41.9), (-87.59, 41.91), (-87.59, 41.9), (-87.6, 41.91)])
    )  # a bow-tie
    path = tmp_path / "many.geojson"
    gpd.GeoDataFrame({"floors": [2] * len(squares)}, geometry=squares, crs=4326).to_file(path)
    before = state(engine)
    with pytest.raises(InvalidGeometry, match=r"many.geojson: feature 5000: invalid geometry"):
        import_file(engine, path, "buildings")
    assert state(engine) == before


def test_gcj02_input_is_converted_and_suspected(engine: Engine, tmp_path: Path) -> None:
    """A community in Beijing and 16 grids of 250 m, shifted to GCJ-02 (about 550 m)."""
    box = shapely.box(116.40, 39.90, 116.4117, 39.909)
    regions = gpd.GeoDataFrame(
        {
            "code": ["110101001000", "110101001001"],
            "name": ["东华门街道", "多福巷社区"],
            "level": ["street", "community"],
            "parent_code": ["179901000000", "110101001000"],
        },
        geometry=[box.buffer(0.02), box],
        crs=4326,
    )
    regions.to_file(tmp_path / "beijing.geojson")
    with pytest.raises(ImportRejected, match="does not start with its parent's 1799"):
        import_file(engine, tmp_path / "beijing.geojson", "regions")
    regions.loc[0, "parent_code"] = None
    regions.loc[0, "level"] = "county"
    regions.loc[0, "code"] = "110101000000"
    regions.loc[1, "parent_code"] = "110101000000"
    regions.loc[1, "level"] = "street"
    regions.loc[1, "code"] = "110101001000"
    regions.to_file(tmp_path / "beijing.geojson")
    with pytest.raises(ImportRejected, match="a county needs a parent_code"):
        import_file(engine, tmp_path / "beijing.geojson", "regions")
    regions = gpd.GeoDataFrame(
        {
            "code": ["110100000000", "110101000000", "110101001000", "110101001001"],
            "name": ["北京市", "东城区", "东华门街道", "多福巷社区"],
            "level": ["prefecture", "county", "street", "community"],
            "parent_code": [None, "110100000000", "110101000000", "110101001000"],
        },
        geometry=[box.buffer(0.02)] * 3 + [box],
        crs=4326,
    )
    regions.to_file(tmp_path / "beijing.geojson")
    assert import_file(engine, tmp_path / "beijing.geojson", "regions").inserted == 4
    xs, ys = np.meshgrid(np.arange(4) * 0.0029250, np.arange(4) * 0.00225)
    cells = shapely.box(
        116.40 + xs.ravel(),
        39.90 + ys.ravel(),
        116.40 + xs.ravel() + 0.002925,
        39.90 + ys.ravel() + 0.00225,
    )
    grids = gpd.GeoDataFrame(
        {
            "code": [f"110101001001{i + 1:03d}" for i in range(16)],
            "name": [f"多福巷第{i + 1}网格" for i in range(16)],
        },
        geometry=list(cells),
        crs=4326,
    )
    shifted = convert_frame(grids, "wgs84", "gcj02")
    shifted.to_file(tmp_path / "amap.geojson")
    dry = import_file(engine, tmp_path / "amap.geojson", "grids", dry_run=True)
    crs = [p.message for p in dry.validation.problems if p.check == "crs"]
    assert len(crs) == 1
    assert "--crs gcj02" in crs[0]
    assert (dry.inserted, dry.dry_run) == (16, True)
    assert scalar(engine, "SELECT count(*) FROM grid WHERE code LIKE '110101%'") == 0
    report = import_file(engine, tmp_path / "amap.geojson", "grids", crs="gcj02")
    assert report.inserted == 16
    assert all(p.check != "crs" for p in report.validation.problems)
    with engine.connect() as conn:
        stored = (
            conn.execute(
                text("SELECT ST_AsBinary(geom) FROM grid WHERE code LIKE '110101%' ORDER BY code")
            )
            .scalars()
            .all()
        )
    got = shapely.get_coordinates(shapely.from_wkb([bytes(b) for b in stored]))
    want = shapely.get_coordinates(shapely.multipolygons(list(cells), indices=np.arange(16)))
    error = np.asarray(Geod(ellps="WGS84").inv(got[:, 0], got[:, 1], want[:, 0], want[:, 1])[2])
    assert error.max() < 0.5


def test_bad_inputs_name_the_file_and_write_nothing(engine: Engine, tmp_path: Path) -> None:
    before = state(engine)
    (tmp_path / "notes.txt").write_text("hello")
    text_ = PRECINCTS.read_text()[:5000]
    (tmp_path / "cut.geojson").write_text(text_)
    (tmp_path / "nocoords.csv").write_text("name,address\n甲,北京\n")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("readme.txt", "no shapefile here")
    cases = [
        (tmp_path / "notes.txt", {}, r"notes.txt: unknown format '.txt'"),
        (tmp_path / "cut.geojson", {}, r"cut.geojson: cannot be read as GeoJSON"),
        (tmp_path / "nocoords.csv", {}, r"nocoords.csv: no coordinates"),
        (tmp_path / "empty.zip", {}, r"empty.zip: the zip must hold exactly one Shapefile"),
        (
            STATIONS,
            {"fields": {"code": "STATION_ID", "name": "ADDRESS"}},
            r"police_stations_2014.csv: mapping code: 'STATION_ID': no such field",
        ),
    ]
    for path, mapping, message in cases:
        with pytest.raises(InvalidInput, match=message):
            import_file(engine, path, "posts", mapping=mapping)
    assert state(engine) == before


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}
    return env | {"GRIDGOV_DATABASE_URL": url}


def test_cli_and_http(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    mapping = tmp_path / "stations.yaml"
    mapping.write_text(yaml.safe_dump({"fields": {"code": "S-{DISTRICT}", "name": "ADDRESS"}}))
    before = state(engine)
    ran = subprocess.run(
        [
            str(GRIDGOV),
            "import",
            str(STATIONS),
            "--as",
            "posts",
            "--mapping",
            str(mapping),
            "--dry-run",
        ],
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert "would insert 23" in ran.stdout
    assert "dry run: nothing written" in ran.stdout
    assert state(engine) == before
    out = tmp_path / "communities.gpkg"
    ran = subprocess.run(
        [
            str(GRIDGOV),
            "export",
            "communities",
            "--region",
            STREET,
            "--format",
            "gpkg",
            "--out",
            str(out),
        ],
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert len(pyogrio.read_dataframe(out, layer="communities")) == 23
    auth = bearer(engine)
    with serve(url) as base:
        with STATIONS.open("rb") as f:
            r = httpx.post(
                f"{base}/import/posts",
                files={
                    "file": ("stations.csv", f, "text/csv"),
                    "mapping": ("m.yaml", mapping.read_bytes(), "application/yaml"),
                },
                headers=auth,
                timeout=60,
            )
        assert r.status_code == 200, r.text
        assert r.json()["inserted"] == 23
        r = httpx.post(
            f"{base}/import/posts", files={"file": ("x.txt", b"hello")}, headers=auth, timeout=60
        )
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        r = httpx.get(f"{base}/export/communities.geojson", params={"region": STREET}, timeout=60)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/geo+json"
        assert 'filename="communities-179901001000.geojson"' in r.headers["content-disposition"]
        assert len(r.json()["features"]) == 23
    assert scalar(engine, "SELECT count(*) FROM police_post WHERE code LIKE 'S-%'") == 23
