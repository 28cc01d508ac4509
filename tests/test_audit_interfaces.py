"""The audit through its two doors: HTTP (real uvicorn) and the ``gridgov`` command."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from browser import serve
from sqlalchemy import Engine

import pyogrio

GRIDGOV = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gridgov")


@pytest.fixture(scope="module")
def client(demo_engine: Engine) -> Iterator[httpx.Client]:
    with (
        serve(demo_engine.url.render_as_string(hide_password=False)) as base,
        httpx.Client(base_url=base, timeout=120) as c,
    ):
        yield c


def _street_with(manifest: dict[str, Any], kind: str) -> str:
    d = next(d for d in manifest["defects"] if d["kind"] == kind and not d.get("sliver"))
    return d["communities"][0][:9] + "000"


def test_summary_over_http(client: httpx.Client, manifest: dict[str, Any]) -> None:
    r = client.get("/audit/652300000000")
    assert r.status_code == 200
    body = r.json()
    assert body["region_name"] == "昌吉回族自治州"
    rules = {x["rule"]: x for x in body["rules"]}
    assert rules["police_posts"]["errors"] == sum(
        d["kind"] in ("no_police_post", "several_police_posts") for d in manifest["defects"]
    )
    assert body["rollup"][0]["code"] == "652300000000"
    assert {c["code"][:12] for c in body["communities"]} <= {
        r["code"] for r in body["rollup"] if r["level"] == "community"
    }


def test_findings_as_geojson(client: httpx.Client, manifest: dict[str, Any]) -> None:
    street = _street_with(manifest, "blind_spot")
    r = client.get(f"/audit/{street}/blind-spots")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert fc["features"]
    for f in fc["features"]:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert f["properties"]["rule"] == "blind_spots"
        lon, lat = f["geometry"]["coordinates"][0][0][:2]
        assert 85 < lon < 92
        assert 43 < lat < 46
    workload = client.get("/audit/652300000000/workload").json()
    assert len(workload["features"]) == sum(
        d["kind"] == "households_out_of_band" for d in manifest["defects"]
    )
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in workload["features"])


@pytest.mark.parametrize("path", ["/audit/652301999999", "/audit/652301999999/overlaps"])
def test_unknown_region_is_404(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "652301999999" in r.json()["detail"]


def _gridgov(*args: str, db: Engine) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDGOV_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    return subprocess.run(
        [GRIDGOV, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_cli_gates_on_errors_and_writes_formats(
    demo_engine: Engine, tmp_path: Path, manifest: dict[str, Any]
) -> None:
    street = _street_with(manifest, "blind_spot")
    out = tmp_path / "findings.geojson"
    done = _gridgov("audit", street, "--format", "geojson", "--output", str(out), db=demo_engine)
    assert done.returncode == 1, done.stderr
    frame = pyogrio.read_dataframe(out)
    assert len(frame) > 0
    assert "rule" in frame.columns
    assert "blind_spots" in set(frame["rule"])
    as_json = _gridgov("audit", street, "--format", "json", db=demo_engine)
    report = json.loads(as_json.stdout[: as_json.stdout.rindex("}") + 1])
    assert report["region"] == street
    assert len(frame) == len(report["violations"])
    table = _gridgov("audit", street, db=demo_engine)
    assert "compliance by region" in table.stdout
    assert table.returncode == 1


def test_cli_profile_commands(demo_engine: Engine, tmp_path: Path) -> None:
    shown = _gridgov("profile", "show", db=demo_engine)
    assert shown.returncode == 0
    profile = yaml.safe_load(shown.stdout)
    assert profile["rules"]["workload"]["bands"]["geographic_urban"] == [300, 500]
    only_codes = tmp_path / "codes-only.yaml"
    rules = {name: {"enabled": name == "codes"} for name in profile["rules"]}
    only_codes.write_text(yaml.safe_dump({"name": "codes only", "rules": rules}))
    assert _gridgov("profile", "check", str(only_codes), db=demo_engine).returncode == 0
    clean = _gridgov("audit", "--profile", str(only_codes), "--format", "csv", db=demo_engine)
    assert clean.returncode == 0, clean.stderr  # no code errors in the demo: exit 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrules:\n  overlaps:\n    sliver_area_m2: -1\n  blindspots: {}\n")
    checked = _gridgov("profile", "check", str(bad), db=demo_engine)
    assert checked.returncode == 1
    assert "line 4" in checked.stderr
    assert "sliver_area_m2" in checked.stderr
    assert "line 5" in checked.stderr
    assert "blindspots" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_cli_unknown_region(demo_engine: Engine) -> None:
    done = _gridgov("audit", "652301999999", db=demo_engine)
    assert done.returncode == 1
    assert "652301999999 does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_malformed_parameter_is_400(client: httpx.Client) -> None:
    r = client.get("/audit/652300000000", params={"as-of": "not a date"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "as-of" in r.json()["detail"]
