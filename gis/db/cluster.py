"""The embedded PostGIS cluster that gridgov runs in ``.gridgov/pg`` when no URL is given.

It uses the system's PostgreSQL and PostGIS binaries (Debian's ``postgresql`` and
``postgresql-15-postgis-3``; installed with apt when we are root and they are missing), and
pgRouting (``postgresql-15-pgrouting``) for road-network distances, installed the same way.
``pg_ctl`` refuses to run as root, so as root the cluster runs as Debian's unprivileged
``postgres`` user. The server listens on 127.0.0.1 on a free port and on a unix socket in
the cluster folder; gridgov connects through the socket.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gis.errors import SetupError

__all__ = ["Cluster", "PgBinaries", "find_binaries", "install_hint"]

log = logging.getLogger(__name__)

FIRST_PORT = 54320
SERVICE_USER = "postgres"
APT_PACKAGES = ("postgresql", "postgresql-15-postgis-3")
PGROUTING_PACKAGE = "postgresql-15-pgrouting"


def install_hint() -> str:
    return (
        "Install PostgreSQL with PostGIS (Debian/Ubuntu: "
        "`sudo apt-get install postgresql postgresql-15-postgis-3`, and `postgresql-15-pgrouting` "
        "for road distances), "
        "or set GRIDGOV_DATABASE_URL to any PostgreSQL with PostGIS 3.3 or newer, e.g. "
        "postgresql+psycopg2://user:password@host:5432/gridgov"
    )


@dataclass(frozen=True)
class PgBinaries:
    """Where initdb/pg_ctl live and whether PostGIS is installed for that server."""

    bindir: Path
    sharedir: Path

    @property
    def has_postgis(self) -> bool:
        return (self.sharedir / "extension" / "postgis.control").exists()

    @property
    def has_pgrouting(self) -> bool:
        return (self.sharedir / "extension" / "pgrouting.control").exists()

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def _candidate_bindirs() -> list[Path]:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append(Path(os.path.realpath(on_path)).parent)
    return [d for d in found if (d / "initdb").exists() and (d / "pg_ctl").exists()]


def _sharedir(bindir: Path) -> Path:
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        out = subprocess.run(
            [str(pg_config), "--sharedir"], capture_output=True, text=True, check=False
        )
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    # Debian layout: /usr/lib/postgresql/15/bin -> /usr/share/postgresql/15
    return Path("/usr/share/postgresql") / bindir.parent.name


def find_binaries() -> PgBinaries | None:
    """The newest PostgreSQL on this machine, preferring one with PostGIS."""
    candidates = [PgBinaries(d, _sharedir(d)) for d in _candidate_bindirs()]
    with_postgis = [c for c in candidates if c.has_postgis]
    if with_postgis:
        return with_postgis[0]
    return candidates[0] if candidates else None


def _is_root() -> bool:
    return os.geteuid() == 0


def _apt_install(say: Callable[[str], None], packages: Sequence[str] = APT_PACKAGES) -> None:
    what = "pgRouting" if tuple(packages) == (PGROUTING_PACKAGE,) else "PostgreSQL/PostGIS"
    say(f"{what} not found: installing Debian's {' '.join(packages)} with apt-get (we are root)…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SetupError(
                f"`{' '.join(cmd)}` failed (exit {done.returncode}): "
                f"{done.stderr.strip()[-800:]}\n{install_hint()}"
            )


def _ensure_pgrouting(found: PgBinaries, say: Callable[[str], None]) -> PgBinaries:
    """pgRouting for ``found``'s server, installed with apt when root; without it gridgov
    still runs (road distances then say what to install), so a failed install only warns."""
    if found.has_pgrouting or not (_is_root() and shutil.which("apt-get")):
        return found
    try:
        _apt_install(say, (PGROUTING_PACKAGE,))
    except SetupError as exc:
        say(f"pgRouting could not be installed; road distances will be unavailable: {exc}")
    return found


def ensure_binaries(say: Callable[[str], None] = print) -> PgBinaries:
    """PostgreSQL + PostGIS (+ pgRouting) binaries, installing them with apt when root;
    SetupError when PostgreSQL or PostGIS stays missing."""
    found = find_binaries()
    if found is not None and found.has_postgis:
        return _ensure_pgrouting(found, say)
    if _is_root() and shutil.which("apt-get"):
        _apt_install(say, (*APT_PACKAGES, PGROUTING_PACKAGE))
        found = find_binaries()
        if found is not None and found.has_postgis:
            return found
    missing = (
        "PostgreSQL" if found is None else f"PostGIS for PostgreSQL {found.bindir.parent.name}"
    )
    raise SetupError(f"{missing} is not installed. {install_hint()}")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(start: int = FIRST_PORT) -> int:
    for port in range(start, start + 200):
        if _port_free(port):
            return port
    raise SetupError(f"no free TCP port on 127.0.0.1 between {start} and {start + 199}")


def _pid_alive_as_postgres(pid: int) -> bool:
    """A live postgres process (a zombie has an empty cmdline: it is dead)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline


def _postmaster_pid(datadir: Path) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((datadir / "postmaster.pid").read_text().splitlines()[0])
    return -1


class Cluster:
    """A private PostgreSQL cluster in ``home/pg`` (data, socket and server log)."""

    def __init__(self, home: Path, database: str = "gridgov", say: Callable[[str], None] = print):
        self.home = home.resolve()
        self.datadir = self.home / "pg"
        self.database = database
        self.say = say
        self.role = "gridgov"

    # -- paths and facts ---------------------------------------------------------------
    @property
    def logfile(self) -> Path:
        return self.datadir / "server.log"

    @property
    def password_file(self) -> Path:
        return self.home / "pg.password"

    @property
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def port(self) -> int:
        conf = self.datadir / "postgresql.auto.conf"
        if conf.exists():
            match = re.search(r"^port\s*=\s*'?(\d+)'?", conf.read_text(), re.MULTILINE)
            if match:
                return int(match.group(1))
        raise SetupError(f"the cluster in {self.datadir} has no port set; run `gridgov db reset`")

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL through the unix socket (no password needed)."""
        db = database or self.database
        return f"postgresql+psycopg2://{self.role}@/{db}?host={self.datadir}&port={self.port()}"

    def tcp_url(self, database: str | None = None) -> str:
        """URL for other tools (QGIS, psql -h 127.0.0.1) over TCP with the generated password."""
        db = database or self.database
        password = self.password_file.read_text().strip() if self.password_file.exists() else ""
        return f"postgresql://{self.role}:{password}@127.0.0.1:{self.port()}/{db}"

    # -- running commands as the service user --------------------------------------------
    def _as_owner(self, argv: Sequence[str]) -> list[str]:
        if _is_root():
            return ["runuser", "-u", SERVICE_USER, "--", *argv]
        return list(argv)

    def _run(self, argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self._as_owner(argv), capture_output=True, text=True, check=False, cwd="/"
        )
        if check and done.returncode != 0:
            tail = self._log_tail()
            raise SetupError(
                f"`{' '.join(argv)}` failed (exit {done.returncode}):\n"
                f"{(done.stdout + done.stderr).strip()[-1500:]}"
                + (f"\nserver log ({self.logfile}):\n{tail}" if tail else "")
            )
        return done

    def _log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _make_reachable_for_service_user(self) -> None:
        """As root the server runs as ``postgres``: it must be able to traverse to home."""
        if not _is_root():
            return
        user = pwd.getpwnam(SERVICE_USER)
        self.home.mkdir(parents=True, exist_ok=True)
        opened = []
        for folder in [*reversed(self.home.parents), self.home]:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH and folder.stat().st_uid != user.pw_uid:
                folder.chmod(mode | stat.S_IXOTH)
                opened.append(str(folder))
        if opened:
            self.say(
                "let the postgres user pass through (search permission only): " + ", ".join(opened)
            )
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.datadir, user.pw_uid, user.pw_gid)

    # -- life cycle ---------------------------------------------------------------------
    def running(self) -> bool:
        if not self.initialised:
            return False
        bins = find_binaries()
        if bins is None:
            return False
        done = self._run([bins.tool("pg_ctl"), "status", "-D", str(self.datadir)], check=False)
        # pg_ctl only asks kill(pid, 0), which a crashed postmaster that nobody reaped
        # (a zombie: PID 1 of many containers never reaps) still answers
        return done.returncode == 0 and _pid_alive_as_postgres(_postmaster_pid(self.datadir))

    def _init(self, bins: PgBinaries) -> None:
        self.say(f"creating the embedded PostGIS cluster in {self.datadir}")
        self._make_reachable_for_service_user()
        password = secrets.token_urlsafe(18)
        pwfile = self.home / ".initpw"
        pwfile.write_text(password + "\n")
        if _is_root():
            user = pwd.getpwnam(SERVICE_USER)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            self._run(
                [
                    bins.tool("initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    self.role,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)
        self._write_conf(_free_port())

    def _write_conf(self, port: int) -> None:
        settings = {
            "port": str(port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.datadir}'",
            "shared_buffers": "'256MB'",
            "work_mem": "'32MB'",
            "maintenance_work_mem": "'256MB'",
            "max_wal_size": "'2GB'",
            "logging_collector": "off",
        }
        body = "".join(f"{k} = {v}\n" for k, v in settings.items())
        conf = self.datadir / "postgresql.auto.conf"
        if _is_root():
            # the file belongs to the service user; write it through that user
            subprocess.run(
                self._as_owner(["tee", str(conf)]),
                input=body,
                capture_output=True,
                text=True,
                check=True,
            )
        else:
            conf.write_text(body)

    def _recover_stale_pid(self) -> None:
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return
        pid = _postmaster_pid(self.datadir)
        if not _pid_alive_as_postgres(pid):
            self.say(f"removing a stale postmaster.pid (process {pid} is gone)")
            pidfile.unlink(missing_ok=True)
            # the socket's lock file names the same dead process; postgres refuses to start
            # while that pid still answers kill(pid, 0), as an unreaped zombie does
            for lock in self.datadir.glob(".s.PGSQL.*.lock"):
                lock.unlink(missing_ok=True)
                Path(str(lock).removesuffix(".lock")).unlink(missing_ok=True)

    def up(self) -> str:
        """Initialise if needed, start if stopped, create the database and PostGIS; the URL."""
        bins = ensure_binaries(self.say)
        if not self.initialised:
            self._init(bins)
        if not self.running():
            self._recover_stale_pid()
            port = self.port()
            if not _port_free(port):
                new = _free_port(port + 1)
                self.say(f"port {port} is in use; the cluster moves to port {new}")
                self._write_conf(new)
            self._run(
                [
                    bins.tool("pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                ]
            )
            self.say(
                f"PostGIS cluster running on 127.0.0.1:{self.port()} (socket in {self.datadir})"
            )
        self.create_database(self.database)
        return self.url()

    def _sql(self, database: str, *statements: str, params: tuple[str, ...] = ()) -> bool:
        """Run statements in autocommit through the socket; whether the first returned a row."""
        import psycopg2

        with contextlib.closing(
            psycopg2.connect(
                dbname=database, user=self.role, host=str(self.datadir), port=self.port()
            )
        ) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statements[0], params or None)
                found = cur.description is not None and cur.fetchone() is not None
                for statement in statements[1:]:
                    cur.execute(statement)
        return found

    def create_database(self, name: str) -> None:
        """Create ``name`` with PostGIS if it does not exist yet."""
        if not self._sql(
            "postgres", "SELECT 1 FROM pg_database WHERE datname = %s", params=(name,)
        ):
            self._sql("postgres", f'CREATE DATABASE "{name}"')
        self._sql(name, "CREATE EXTENSION IF NOT EXISTS postgis")

    def drop_database(self, name: str) -> None:
        self._sql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def down(self) -> bool:
        """Stop the server; False when it was not running."""
        if not self.running():
            return False
        bins = find_binaries()
        assert bins is not None
        self._run([bins.tool("pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.datadir)])
        return True

    def reset(self) -> str:
        """Stop, delete every database of the cluster, and start a new empty one."""
        self.down()
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        self.password_file.unlink(missing_ok=True)
        return self.up()
