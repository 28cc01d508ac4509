"""The ``gridgov`` command as a user runs it: the console script in real processes.

Everything that could write points ``GRIDGOV_DATABASE_URL`` at a scratch database on the
test server, and ``GRIDGOV_HOME`` at an empty temporary folder, so that a command that
wrongly fell back to the embedded cluster could not touch the test server either.

Each run costs more than a second of imports, so the commands that only read or must be
refused run side by side once (:func:`ran`) and the tests check what each one did.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import database_url, drop_database, server_url
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gis.db.cluster import Cluster
from gis.db.engine import CONNECT_TIMEOUT, create_db_engine
from gis.db.migrate import head_revision, upgrade

GRIDGOV = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gridgov"

SCRATCH = "gridgov_cli_scratch"  # with PostGIS; migrated by the tests
UNTOUCHED = "gridgov_cli_untouched"  # with PostGIS; bad input must leave it empty
PLAIN = "gridgov_cli_plain"  # PostgreSQL without PostGIS

# longer than the 80 columns a console assumes when its output is a pipe
LONG_URL = "postgresql+psycopg2://someone:secret@db.example.org:5433/" + "g" * 60

MY_REGION = (
    "INSERT INTO region (code, name, level, geom) VALUES ('652301000000', 'my own data', "
    "'prefecture', ST_Multi(ST_MakeEnvelope(87.0, 44.0, 87.1, 44.1, 4326)))"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """GRIDGOV_HOME of every command: empty, and still without a cluster at the end."""
    path = tmp_path_factory.mktemp("gridgov-home")
    yield path
    stray = Cluster(path, say=lambda _m: None)
    if stray.initialised:  # a command wrongly started the embedded cluster: stop it
        stray.down()


def run(
    *args: str, home: Path, url: str | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}
    env["GRIDGOV_HOME"] = str(home)
    env["LC_ALL"] = "C.UTF-8"  # libpq's part of a message in English
    if url is not None:
        env["GRIDGOV_DATABASE_URL"] = url
    return subprocess.run(
        [str(GRIDGOV), *args],
        env=env,
        cwd=cwd or home,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_refused(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Non-zero exit, a one-message error on stderr naming ``needles``, no traceback."""
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "Traceback" not in out, out
    assert done.stderr.startswith("error: "), out
    for needle in needles:
        assert needle in done.stderr, (needle, out)
    return done.stderr


def _fresh(name: str) -> str:
    drop_database(name)
    return database_url(name)


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'spatial_ref_sys'"
                )
            ).scalars()
            return set(rows)
    finally:
        engine.dispose()


def _count(url: str, table: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def scratch() -> Iterator[str]:
    yield _fresh(SCRATCH)
    drop_database(SCRATCH)


@pytest.fixture(scope="module")
def untouched() -> Iterator[str]:
    """A new database with PostGIS and nothing else; checked empty after every refusal."""
    url = _fresh(UNTOUCHED)
    assert _tables(url) == set()
    yield url
    assert _tables(url) == set()
    drop_database(UNTOUCHED)


@pytest.fixture(scope="module")
def plain() -> Iterator[str]:
    """A PostgreSQL database without the PostGIS extension."""
    drop_database(PLAIN)
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{PLAIN}"'))
    admin.dispose()
    url = make_url(server_url()).set(database=PLAIN).render_as_string(hide_password=False)
    yield url
    drop_database(PLAIN)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Ran:
    done: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="module")
def ran(
    home: Path, untouched: str, plain: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Ran]:
    """Every command that must not change anything, run side by side: name -> result."""
    nobody = f"postgresql+psycopg2://u:p@127.0.0.1:{_free_port()}/x"
    cwd = tmp_path_factory.mktemp("cwd")
    with socket.socket() as hung:  # accepts TCP connections and never says a word
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        silent = f"postgresql+psycopg2://u:p@127.0.0.1:{hung.getsockname()[1]}/x"
        cases: dict[str, tuple[tuple[str, ...], str | None]] = {
            "hung server": (("db", "status"), silent),  # the slowest: first
            "help": (("--help",), None),
            "db help": (("db", "--help"), None),
            "demo load help": (("demo", "load", "--help"), None),
            "db url": (("db", "url"), LONG_URL),
            "scale 0": (("demo", "load", "--scale", "0"), untouched),
            "scale -3": (("demo", "load", "--scale", "-3"), untouched),
            "county": (("demo", "load", "--county", "659999"), untouched),
            "no postgis: db up": (("db", "up"), plain),
            "no postgis: demo load": (("demo", "load"), plain),
            "nobody listens: db up": (("db", "up"), nobody),
            "sqlite": (("demo", "load"), "sqlite:///x.db"),
            "mysql": (("db", "url"), "mysql://user:pass@127.0.0.1:3306/gridgov"),
            "reset": (("db", "reset", "--yes"), untouched),
            "down": (("db", "down"), untouched),
        }

        def one(case: tuple[tuple[str, ...], str | None]) -> Ran:
            started = time.monotonic()
            done = run(*case[0], home=home, url=case[1], cwd=cwd, timeout=60)
            return Ran(done, time.monotonic() - started)

        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(zip(cases, pool.map(one, cases.values()), strict=True))
    assert list(cwd.iterdir()) == []  # no x.db, nothing else
    return results


# -- help and url ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("help", ["db", "demo", "serve", "version"]),
        ("db help", ["up", "down", "status", "url", "migrate", "reset"]),
        ("demo load help", ["--seed", "--scale", "--county", "--replace"]),
    ],
)
def test_help(name: str, listed: list[str], ran: dict[str, Ran]) -> None:
    done = ran[name].done
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Usage: gridgov" in done.stdout
    for word in listed:
        assert f" {word} " in done.stdout, (word, done.stdout)
    assert done.stderr == ""


def test_db_url_prints_the_configured_url(ran: dict[str, Ran]) -> None:
    done = ran["db url"].done
    assert done.returncode == 0, done.stderr
    # whole, on one line: not folded at the 80 columns of a pipe
    assert done.stdout == LONG_URL + "\n"


# -- the database commands on a scratch database ---------------------------------------


def test_db_migrate_migrates_an_empty_database(scratch: str, home: Path) -> None:
    assert _tables(scratch) == set()
    done = run("db", "migrate", home=home, url=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    head = head_revision(create_db_engine(scratch))
    assert head
    assert f"schema at revision {head}" in done.stdout
    assert {"region", "grid", "grid_code", "building", "alembic_version"} <= _tables(scratch)
    assert _count(scratch, "region") == 0


def test_db_status_prints_versions_and_revision(scratch: str, home: Path) -> None:
    engine = create_db_engine(scratch)
    upgrade(engine)
    head = head_revision(engine)
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        ).scalar_one()
    engine.dispose()
    done = run("db", "status", home=home, url=scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"PostgreSQL {pg}, PostGIS {postgis}" in done.stdout
    assert f"schema revision {head} (head {head})" in done.stdout


def test_demo_load_refuses_to_replace_other_data(scratch: str, home: Path) -> None:
    engine = create_db_engine(scratch)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE region CASCADE"))
        conn.execute(text(MY_REGION))
    engine.dispose()
    done = run("demo", "load", home=home, url=scratch)
    assert_refused(done, "--replace", "not the demo")
    assert _count(scratch, "region") == 1
    assert _count(scratch, "grid") == 0
    assert not (home / "demo-manifest.json").exists()


# -- bad input: a clear message, nothing written ----------------------------------------


@pytest.mark.parametrize("scale", ["0", "-3"])
def test_demo_load_rejects_a_scale_below_one(
    scale: str, ran: dict[str, Ran], untouched: str
) -> None:
    assert_refused(ran[f"scale {scale}"].done, "--scale", f"got {scale}")
    assert _tables(untouched) == set()


def test_demo_load_rejects_an_unknown_county(ran: dict[str, Ran], untouched: str) -> None:
    message = assert_refused(ran["county"].done, "659999", "652301", "652328")
    assert "unknown county" in message
    assert _tables(untouched) == set()


@pytest.mark.parametrize("command", ["db up", "demo load"])
def test_database_without_postgis(command: str, ran: dict[str, Ran], plain: str) -> None:
    done = ran[f"no postgis: {command}"].done
    assert_refused(done, "PostGIS extension", "CREATE EXTENSION postgis", PLAIN)
    assert _tables(plain) == set()
    engine = create_db_engine(plain)
    with engine.connect() as conn:
        extensions = conn.execute(text("SELECT extname FROM pg_extension")).scalars().all()
    engine.dispose()
    assert "postgis" not in extensions


def _startup(ran: dict[str, Ran]) -> float:
    """How long a command that never touches a database took here (busy machines vary)."""
    return max(ran[name].seconds for name in ("help", "db help", "demo load help", "mysql"))


def test_unreachable_database(ran: dict[str, Ran]) -> None:
    result = ran["nobody listens: db up"]
    message = assert_refused(result.done, "cannot reach the database", "127.0.0.1")
    assert "Connection refused" in message
    assert ":p@" not in message  # the password is not printed
    assert result.seconds < _startup(ran) + 5, f"took {result.seconds:.1f} s"


def test_silent_server_times_out(ran: dict[str, Ran]) -> None:
    """A server that accepts the connection and never answers: libpq would wait for ever."""
    result = ran["hung server"]
    assert_refused(result.done, "cannot reach the database", "timeout expired")
    assert result.seconds < _startup(ran) + CONNECT_TIMEOUT + 5, f"took {result.seconds:.1f} s"


@pytest.mark.parametrize("name", ["sqlite", "mysql"])
def test_url_must_be_postgresql(name: str, ran: dict[str, Ran]) -> None:
    message = assert_refused(ran[name].done, "GRIDGOV_DATABASE_URL must be a PostgreSQL URL")
    assert f"not '{name}'" in message


@pytest.mark.parametrize(("name", "verb"), [("reset", "never deletes"), ("down", "not stop")])
def test_never_resets_or_stops_a_configured_database(
    name: str, verb: str, ran: dict[str, Ran], untouched: str, home: Path
) -> None:
    assert_refused(ran[name].done, "GRIDGOV_DATABASE_URL is set", verb)
    # the database is still there and still answers, and no embedded cluster was made
    assert _tables(untouched) == set()
    assert not (home / "pg").exists()
