"""Migrations up and down on an empty database; the models agree with the migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import database_url, drop_database
from sqlalchemy import Engine, inspect, text

from gis.db.engine import create_db_engine
from gis.db.migrate import current_revision, downgrade, head_revision, upgrade
from gis.models import Base

SCRATCH = "gridgov_migrations_test"
SPATIAL = {
    "region": "MULTIPOLYGON",
    "grid": "MULTIPOLYGON",
    "plan_grid": "MULTIPOLYGON",
    "building": "MULTIPOLYGON",
    "police_post": "POINT",
    "organization": "POINT",
    "road": "MULTILINESTRING",
}


@pytest.fixture(scope="module")
def empty_engine() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}


def test_up_down_up(empty_engine: Engine) -> None:
    assert _tables(empty_engine) == set()
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)
    downgrade(empty_engine)
    assert _tables(empty_engine) == set()
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)


def test_models_match_migrations(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        diff = [
            d
            for d in compare_metadata(ctx, Base.metadata)
            if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        ]
    assert diff == []


def test_geometry_columns_declared(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT f_table_name, type, srid FROM geometry_columns "
                "WHERE f_table_schema = 'public'"
            )
        ).all()
        gist = (
            conn.execute(
                text("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'")
            )
            .scalars()
            .all()
        )
    assert {r[0]: (r[1], r[2]) for r in rows} == {t: (k, 4326) for t, k in SPATIAL.items()}
    assert set(gist) == set(SPATIAL)


def test_constraints_reject_bad_rows(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    bowtie = "SRID=4326;MULTIPOLYGON(((0 0,1 1,1 0,0 1,0 0)))"
    good = "SRID=4326;MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)))"
    insert_region = (
        "INSERT INTO region (code, name, level, geom) VALUES (:code, 'x', :level, :geom)"
    )
    cases = [
        ({"code": "652300000000", "level": "prefecture", "geom": bowtie}, "region_geom_valid"),
        ({"code": "65230", "level": "prefecture", "geom": good}, "region_code_12_digits"),
        ({"code": "652300000000", "level": "province", "geom": good}, "region_level_known"),
    ]
    for params, constraint in cases:
        with (
            empty_engine.connect() as conn,
            conn.begin(),
            pytest.raises(Exception, match=constraint),
        ):
            conn.execute(text(insert_region), params)
    with empty_engine.connect() as conn, conn.begin():
        conn.execute(
            text(insert_region), {"code": "652301001001", "level": "community", "geom": good}
        )
        conn.execute(
            text(
                "INSERT INTO grid_code (code, community_code) "
                "VALUES ('652301001001001', '652301001001')"
            )
        )
        row = {"code": "652301001001001", "kind": "geographic", "geom": good}
        sql = (
            "INSERT INTO grid (code, name, kind, community_code, geom) "
            "VALUES (:code, 'g', :kind, '652301001001', :geom)"
        )
        conn.execute(text(sql), row)
        with pytest.raises(Exception, match="grid_live_code_key"), conn.begin_nested():
            # a second live version of one code
            conn.execute(
                text(sql.replace("(code,", "(version, code,").replace("(:code", "(2, :code")), row
            )
        with pytest.raises(Exception, match="grid_kind_known"), conn.begin_nested():
            conn.execute(text(sql), {**row, "kind": "district"})
        with pytest.raises(Exception, match="foreign key"), conn.begin_nested():
            conn.execute(text(sql), {**row, "code": "652301001001999"})
