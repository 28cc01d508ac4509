"""The planners' notebooks (notebooks/*.ipynb) run top to bottom with nbclient, against
scratch databases: 01 and 03 only read (the demo test database), 02 redraws grids (its
own copy of the demo), 04 imports Chicago (an empty migrated database). Any cell error
fails. The committed notebooks carry no outputs and no execution counts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import DEMO_SCALE, DEMO_SEED, database_url, drop_database
from nbclient import NotebookClient
from sqlalchemy import Engine, text

from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from gis.demo.generate import generate
from gis.demo.load import demo_fingerprint, load_demo

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def run(name: str, url: str, tmp_path: Path) -> nbformat.NotebookNode:
    """Execute notebook ``name`` in a fresh kernel with ``GRIDGOV_DATABASE_URL=url``."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    env = {**os.environ, "GRIDGOV_DATABASE_URL": url, "GRIDGOV_NB_OUTPUT": str(tmp_path)}
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict[str, object]]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def html_of(nb: nbformat.NotebookNode) -> str:
    return "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs(nb))


def test_four_notebooks_are_there() -> None:
    assert ALL == [
        "01_audit_a_community.ipynb",
        "02_redraw_with_a_plan.ipynb",
        "03_briefing_and_exports.ipynb",
        "04_real_data_chicago.ipynb",
    ]


@pytest.mark.parametrize("name", ALL)
def test_committed_notebooks_are_stripped(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: a cell has outputs (strip them)"
            assert cell.execution_count is None, f"{name}: a cell has an execution count"
    assert "widgets" not in nb.metadata


@pytest.fixture(scope="module")
def plan_db() -> Iterator[str]:
    """A scratch copy of the demo for the notebook that publishes a plan."""
    name = "gridgov_nb_plan"
    drop_database(name)
    url = database_url(name)
    engine = create_db_engine(url)
    upgrade(engine)
    load_demo(
        engine,
        lambda: generate(DEMO_SEED, DEMO_SCALE),
        demo_fingerprint(DEMO_SEED, DEMO_SCALE),
        say=lambda _m: None,
    )
    engine.dispose()
    yield url
    drop_database(name)


@pytest.fixture(scope="module")
def empty_db() -> Iterator[str]:
    name = "gridgov_nb_chicago"
    drop_database(name)
    url = database_url(name)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_database(name)


def test_01_audit(demo_engine: Engine, tmp_path: Path) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    nb = run("01_audit_a_community.ipynb", url, tmp_path)
    html = html_of(nb)
    assert html.count("folium") >= 2 or html.count("leaflet") >= 2
    assert "中山路街道" in "".join(str(o.get("text", "")) for o in outputs(nb))


def test_03_briefing_and_exports(demo_engine: Engine, tmp_path: Path) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    nb = run("03_briefing_and_exports.ipynb", url, tmp_path)
    assert any("image/png" in o.get("data", {}) for o in outputs(nb))  # type: ignore[operator]
    assert (tmp_path / "652301005000-grids.gpkg").stat().st_size > 0
    assert (tmp_path / "652301005000-grids.kml").stat().st_size > 0
    assert (tmp_path / "brief-652301005000.pdf").read_bytes().startswith(b"%PDF")


def test_02_plan_publishes(plan_db: str, tmp_path: Path) -> None:
    run("02_redraw_with_a_plan.ipynb", plan_db, tmp_path)
    engine = create_db_engine(plan_db)
    try:
        with engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM plan ORDER BY id")).scalars().all()
            proposals = conn.execute(
                text(
                    "SELECT count(*) FROM change WHERE action LIKE 'autogrid%' "
                    "OR (action = 'plan.create' AND actor = 'notebook planner')"
                )
            ).scalar_one()
            splits = conn.execute(
                text("SELECT count(*) FROM change WHERE action = 'grid.split'")
            ).scalar_one()
    finally:
        engine.dispose()
    # the split plan is published; the autogrid proposal stays a draft
    assert (statuses, splits) == (["published", "draft"], 1)
    assert proposals >= 2


def test_04_chicago(empty_db: str, tmp_path: Path) -> None:
    run("04_real_data_chicago.ipynb", empty_db, tmp_path)
    engine = create_db_engine(empty_db)
    try:
        with engine.connect() as conn:
            counts = conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM region WHERE level = 'community'), "
                    "(SELECT count(*) FROM grid WHERE valid_to IS NULL), "
                    "(SELECT count(*) FROM police_post), "
                    "(SELECT count(*) FROM police_post WHERE grid_code IS NOT NULL)"
                )
            ).one()
    finally:
        engine.dispose()
    assert tuple(counts)[:3] == (23, 277, 23)
    assert counts[3] >= 20  # stations standing in a beat
