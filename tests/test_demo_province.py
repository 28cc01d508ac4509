"""``gridgov demo load --counties N``: a province of copies of the demo prefecture, with
fresh valid codes, apart from each other, in its own database, never over other data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import DEMO_SEED, database_url, drop_database
from sqlalchemy import Engine, text

from gis.codes import is_region_code, level_of, parent_code
from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from gis.demo.generate import generate
from gis.demo.province import load_province, province_codes
from gis.errors import Conflict, InvalidInput

SCRATCH = "gridgov_province_scratch"


@pytest.fixture(scope="module")
def province() -> Iterator[Engine]:
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    result = load_province(engine, 2, DEMO_SEED, replace=True, say=lambda _m: None)
    assert result.loaded
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


def test_codes() -> None:
    assert province_codes(2) == [
        ("659100000000", "659101000000"),
        ("659100000000", "659102000000"),
    ]
    assert province_codes(100)[99] == ("659200000000", "659201000000")
    with pytest.raises(InvalidInput, match="--counties"):
        province_codes(0)


def test_province_is_copies_of_the_demo_apart_and_well_coded(
    province: Engine, demo_engine: Engine
) -> None:
    with demo_engine.connect() as conn:
        demo_grids = conn.execute(text("SELECT count(*) FROM grid")).scalar_one()
        demo_buildings = conn.execute(text("SELECT count(*) FROM building")).scalar_one()
    with province.connect() as conn:
        regions = conn.execute(text("SELECT code, level, parent_code FROM region")).all()
        for code, level, parent in regions:
            assert is_region_code(code)
            assert level_of(code) == level
            assert parent == parent_code(code)
        per_county = dict(
            conn.execute(
                text("SELECT left(code, 6), count(*) FROM grid GROUP BY 1 ORDER BY 1")
            ).all()
        )
        assert per_county == {"659101": demo_grids, "659102": demo_grids}
        assert conn.execute(text("SELECT count(*) FROM building")).scalar_one() == (
            2 * demo_buildings
        )
        bad = conn.execute(
            text("""
            SELECT count(*) FROM grid g
            WHERE left(g.code, 12) <> g.community_code
               OR NOT EXISTS (SELECT 1 FROM grid_code c WHERE c.code = g.code)
               OR NOT ST_IsValid(g.geom)
            """)
        ).scalar_one()
        assert bad == 0
        touching = conn.execute(
            text("""
            SELECT count(*) FROM region a JOIN region b
              ON a.level = 'county' AND b.level = 'county' AND a.code < b.code
             AND ST_Intersects(a.geom, b.geom)
            """)
        ).scalar_one()
        assert touching == 0
        orphans = conn.execute(
            text("""
            SELECT (SELECT count(*) FROM police_post p
                    WHERE p.grid_code IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = p.grid_code))
                 + (SELECT count(*) FROM worker w
                    WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = w.grid_code))
            """)
        ).scalar_one()
        assert orphans == 0


def test_loading_again_is_skipped_and_other_data_is_kept(
    province: Engine, demo_engine: Engine
) -> None:
    again = load_province(province, 2, DEMO_SEED, say=lambda _m: None)
    assert not again.loaded
    with pytest.raises(Conflict, match="--replace"):
        load_province(demo_engine, 2, DEMO_SEED, make=lambda: generate(DEMO_SEED, 1))
    with demo_engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM region WHERE code LIKE '6591%'")).scalar() == 0
        )
