"""Schemathesis against the live server's ``/openapi.json`` (fixed seed, ≥ 1,000 requests,
writes with an admin token): no 5xx, no response that breaks the schema.

The HTML pages, static assets, briefing images and file downloads are left out: they are
not JSON and the pages tests cover them.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from browser import ROOT, serve
from conftest import database_url, drop_database
from sqlalchemy import Engine

from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from tests import canonical as cases
from tests.canonical import insert_case
from tests.tokens import bearer

SCRATCH = "gridgov_fuzz_test"
ST = ROOT / ".venv" / "bin" / "st"
EXAMPLES = 30  # per operation; ~37 operations → over 1,000 requests


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    with engine.begin() as conn:
        insert_case(conn, cases.SHARED_EDGE)
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


def test_fuzz_openapi(scratch: Engine) -> None:
    auth = bearer(scratch, "admin", name="schemathesis")["Authorization"]
    with serve(scratch.url.render_as_string(hide_password=False)) as base:
        ran = subprocess.run(
            [
                str(ST),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                "42",
                "--phases",
                "examples,fuzzing",
                "--exclude-path-regex",
                "^/(map|assets|brief|export)",
                "-H",
                f"Authorization: {auth}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
    out = ran.stdout
    assert ran.returncode == 0, out[-8000:] + ran.stderr[-2000:]
    generated = re.search(r"(\d+) generated", out)
    assert generated, out[-4000:]
    assert int(generated.group(1)) >= 1000, out[-4000:]
    assert "failed" not in out.split("SUMMARY")[-1], out[-8000:]
