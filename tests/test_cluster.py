"""The embedded PostGIS cluster (``gis.db.cluster.Cluster``) in a private temporary home.

One cluster for the module (initdb takes a few seconds); the tests run in file order and
each leaves it running. It is stopped and its data deleted at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from gis.db.cluster import Cluster


class Recorder:
    """The ``say`` callback: keeps what the cluster tells the user."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken


@pytest.fixture(scope="module")
def said() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, said: Recorder) -> Iterator[Cluster]:
    home = tmp_path_factory.mktemp("cluster")
    assert not home.stat().st_mode & stat.S_IXOTH  # pytest's folders are private (0700)
    c = Cluster(home, database="gridgov", say=said)
    try:
        yield c
    finally:
        c.down()
        shutil.rmtree(c.datadir, ignore_errors=True)


def _query(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def _exec(url: str, sql: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _wait(condition: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                address, hexport = cols[1].rsplit(":", 1)
                if int(hexport, 16) == port and cols[3] == "0A":  # 0A = LISTEN
                    found.append(address)
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_up_initialises_starts_and_creates_postgis(cluster: Cluster, said: Recorder) -> None:
    assert not cluster.initialised
    assert not cluster.running()
    url = cluster.up()
    messages = said.take()

    home = cluster.home
    assert cluster.datadir == home / "pg"
    assert (home / "pg" / "PG_VERSION").is_file()
    assert any("creating the embedded PostGIS cluster" in m for m in messages), messages
    # pytest made home and its parent folders 0700: the postgres user must pass through
    for folder in (home, home.parent, home.parent.parent):
        assert folder.stat().st_mode & stat.S_IXOTH, folder
        assert not folder.stat().st_mode & (stat.S_IROTH | stat.S_IWOTH), folder  # only x
    as_postgres = ["runuser", "-u", "postgres", "--", "test", "-x", str(home)]
    assert subprocess.run(as_postgres, check=False).returncode == 0
    # the socket is in the data folder, the password file next to it and private
    port = cluster.port()
    assert stat.S_ISSOCK((cluster.datadir / f".s.PGSQL.{port}").stat().st_mode)
    assert cluster.password_file == home / "pg.password"
    assert stat.S_IMODE(cluster.password_file.stat().st_mode) == 0o600
    assert len(cluster.password_file.read_text().strip()) >= 16
    assert not (home / ".initpw").exists()  # initdb's password file is removed

    assert cluster.running()
    assert url == cluster.url()
    assert f"host={cluster.datadir}" in url
    assert f"port={port}" in url
    version = _query(url, "SELECT postgis_version()")
    assert isinstance(version, str)
    assert tuple(int(n) for n in version.split()[0].split(".")[:2]) >= (3, 3), version
    assert _query(url, "SELECT current_database()") == "gridgov"

    # a second up() changes nothing and says nothing
    assert cluster.up() == url
    assert said.take() == []
    assert cluster.port() == port


def test_listens_on_loopback_only_with_password_over_tcp(cluster: Cluster) -> None:
    cluster.up()
    port = cluster.port()
    assert _query(cluster.url(), "SHOW listen_addresses") == "127.0.0.1"
    assert _listening(port) == ["0100007F"]  # 127.0.0.1 only: no 0.0.0.0, no ::

    tcp = cluster.tcp_url()
    assert tcp.startswith("postgresql://gridgov:")
    assert f"@127.0.0.1:{port}/gridgov" in tcp
    with (
        contextlib.closing(psycopg2.connect(tcp, connect_timeout=5)) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT inet_server_addr()::text, postgis_version()")
        addr, postgis = cur.fetchone()
    assert addr.startswith("127.0.0.1")
    assert postgis

    password = cluster.password_file.read_text().strip()
    wrong = tcp.replace(f":{password}@", ":not-the-password@")
    assert wrong != tcp
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(wrong, connect_timeout=5)
    # and TCP without any password is not let in either
    no_password = tcp.replace(f":{password}@", "@")
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(no_password, connect_timeout=5)


def test_up_recovers_after_a_crash(cluster: Cluster, said: Recorder) -> None:
    url = cluster.up()
    _exec(url, "CREATE TABLE survivor (id int PRIMARY KEY, name text)")
    _exec(url, "INSERT INTO survivor VALUES (1, 'before the crash')")
    port = cluster.port()

    pidfile = cluster.datadir / "postmaster.pid"
    pid = int(pidfile.read_text().splitlines()[0])
    children = _children(pid)
    assert children, "the postmaster has no background processes?"
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: not _alive(pid), "the postmaster to die")
    _wait(lambda: not any(_alive(c) for c in children), "the postmaster's children to exit")
    _wait(lambda: _port_free(port), f"port {port} to be free")
    assert pidfile.exists()  # stale: its process is gone
    assert not cluster.running()
    said.take()

    assert cluster.up() == url  # same port: it is free again
    assert any("stale postmaster.pid" in m and str(pid) in m for m in said.take())
    assert cluster.running()
    assert _query(url, "SELECT name FROM survivor WHERE id = 1") == "before the crash"
    new_pid = int(pidfile.read_text().splitlines()[0])
    assert new_pid != pid
    assert _alive(new_pid)


def test_up_moves_to_a_free_port_when_its_port_is_taken(cluster: Cluster, said: Recorder) -> None:
    cluster.up()
    old = cluster.port()
    assert cluster.down()
    _wait(lambda: _port_free(old), f"port {old} to be free")
    said.take()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", old))
        squatter.listen()
        url = cluster.up()
        messages = said.take()
        new = cluster.port()
        assert new != old
        assert any(f"port {old} is in use" in m and str(new) in m for m in messages), messages
        assert url == cluster.url()
        assert f"port={new}" in url
        assert _query(url, "SELECT name FROM survivor WHERE id = 1") == "before the crash"
        assert _listening(new) == ["0100007F"]
        with contextlib.closing(psycopg2.connect(cluster.tcp_url(), connect_timeout=5)) as conn:
            assert conn.server_version >= 150000


def test_down_stops_once(cluster: Cluster) -> None:
    cluster.up()
    port = cluster.port()
    assert cluster.running()
    assert cluster.down() is True
    assert not cluster.running()
    assert not (cluster.datadir / "postmaster.pid").exists()
    assert _port_free(port)
    assert cluster.down() is False
    assert not cluster.running()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(cluster.tcp_url(), connect_timeout=3)


def test_reset_gives_an_empty_database(cluster: Cluster) -> None:
    url = cluster.up()
    assert _query(url, "SELECT to_regclass('public.survivor') IS NOT NULL") is True
    old_password = cluster.password_file.read_text()

    url = cluster.reset()
    assert cluster.running()
    assert url == cluster.url()
    assert _query(url, "SELECT to_regclass('public.survivor') IS NULL") is True
    tables = "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"
    assert _query(url, tables) == "spatial_ref_sys"  # PostGIS's own, nothing else
    assert _query(url, "SELECT postgis_version()")
    assert cluster.password_file.read_text() != old_password
    assert stat.S_IMODE(cluster.password_file.stat().st_mode) == 0o600
    with contextlib.closing(psycopg2.connect(cluster.tcp_url(), connect_timeout=5)) as conn:
        assert conn.server_version >= 150000
