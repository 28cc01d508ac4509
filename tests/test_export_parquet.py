"""``--format parquet``: a directory of GeoParquet files, one per county, read back
(GDAL's Parquet driver when pyogrio has it, else geopandas/pyarrow) with the features
the database holds in each county."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import geopandas as gpd
import pyogrio
import shapely

from gis.errors import InvalidInput, NotFound
from gis.io.export import export_layer, export_parquet

GRIDGOV = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gridgov"
COUNTIES = ["652301000000", "652302000000", "652323000000"]


def read_back(path: Path) -> gpd.GeoDataFrame:
    if "Parquet" in pyogrio.list_drivers():
        return pyogrio.read_dataframe(path)
    return gpd.read_parquet(path)


def grids_by_county(engine: Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code FROM grid WHERE valid_to IS NULL")).scalars()
        out: dict[str, set[str]] = {c: set() for c in COUNTIES}
        for code in rows:
            out[code[:6] + "000000"].add(code)
    return out


def test_grids_one_file_per_county(demo_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "grids"
    counts = export_parquet(demo_engine, "grids", out)
    want = grids_by_county(demo_engine)
    assert sorted(p.name for p in out.iterdir()) == [f"{c}.parquet" for c in COUNTIES]
    assert counts == {c: len(codes) for c, codes in want.items()}
    with demo_engine.connect() as conn:
        geoms = dict(
            conn.execute(
                text("SELECT code, ST_AsBinary(geom) FROM grid WHERE valid_to IS NULL")
            ).all()
        )
    for county in COUNTIES:
        path = out / f"{county}.parquet"
        frame = read_back(path)
        assert set(frame["code"]) == want[county]
        assert len(frame) == len(want[county]) > 0
        assert frame.crs.to_epsg() == 4326
        sample = frame.iloc[0]
        stored = shapely.from_wkb(bytes(geoms[sample["code"]]))
        assert shapely.equals_exact(sample.geometry, stored, tolerance=1e-12)
        # GeoParquet metadata, for any reader
        import pyarrow.parquet as pq

        geo = json.loads(pq.read_schema(path).metadata[b"geo"])
        assert geo["primary_column"] == "geometry"
        assert geo["columns"]["geometry"]["encoding"] == "WKB"
        assert "MultiPolygon" in geo["columns"]["geometry"]["geometry_types"]


def test_layer_without_codes_is_cut_by_place_and_a_county_region(
    demo_engine: Engine, tmp_path: Path
) -> None:
    counts = export_parquet(demo_engine, "police_posts", tmp_path / "posts", "652300000000")
    with demo_engine.connect() as conn:
        for county in COUNTIES:
            in_db = conn.execute(
                text(
                    "SELECT count(*) FROM police_post p JOIN grid g ON g.code = p.grid_code "
                    "AND g.valid_to IS NULL WHERE g.code LIKE :c"
                ),
                {"c": county[:6] + "%"},
            ).scalar_one()
            assert len(read_back(tmp_path / "posts" / f"{county}.parquet")) == counts[county]
            assert counts[county] >= in_db > 0
    # a county region: one file, for that county
    n = export_layer(demo_engine, "grids", tmp_path / "one", "parquet", region=COUNTIES[1])
    assert [p.name for p in (tmp_path / "one").iterdir()] == [f"{COUNTIES[1]}.parquet"]
    assert n == len(grids_by_county(demo_engine)[COUNTIES[1]])


def test_bad_requests_change_nothing(demo_engine: Engine, tmp_path: Path) -> None:
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "readme.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"directory of \.parquet files"):
        export_parquet(demo_engine, "grids", keep)
    assert [p.name for p in keep.iterdir()] == ["readme.txt"]
    with pytest.raises(NotFound, match="region 999999999999"):
        export_parquet(demo_engine, "grids", tmp_path / "x", region="999999999999")
    with pytest.raises(NotFound):
        export_parquet(demo_engine, "no_such_layer", tmp_path / "y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]
    # a previous export is replaced whole
    first = tmp_path / "again"
    export_parquet(demo_engine, "grids", first, region=COUNTIES[0])
    export_parquet(demo_engine, "grids", first, region=COUNTIES[2])
    assert [p.name for p in first.iterdir()] == [f"{COUNTIES[2]}.parquet"]


def test_command_line(demo_engine: Engine, tmp_path: Path) -> None:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": demo_engine.url.render_as_string(False)}
    out = tmp_path / "cli"
    run = subprocess.run(
        [str(GRIDGOV), "export", "grids", "--format", "parquet", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    total = sum(len(codes) for codes in grids_by_county(demo_engine).values())
    assert f"wrote {total} features of grids to {out}/ (GeoParquet)" in run.stdout
    assert sum(len(read_back(p)) for p in out.iterdir()) == total
