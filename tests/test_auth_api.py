"""Tokens and roles through HTTP on a scratch database: who may write where, 401 vs 403,
the token's name in the change log, reads behind a token when the server says so; and
the ``gridgov token`` commands."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from browser import ROOT, serve
from conftest import database_url, drop_database
from sqlalchemy import Engine, text

from gis.db.engine import create_db_engine
from gis.db.migrate import upgrade
from tests import canonical as cases
from tests.canonical import insert_case
from tests.tokens import bearer, new_token

SCRATCH = "gridgov_auth_api_test"
CASE = cases.SHARED_EDGE
COMMUNITY = CASE.community  # 659001001001
STREET = COMMUNITY[:9]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    drop_database(SCRATCH)
    engine = create_db_engine(database_url(SCRATCH))
    upgrade(engine)
    with engine.begin() as conn:
        insert_case(conn, CASE)
    yield engine
    engine.dispose()
    drop_database(SCRATCH)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def client(scratch: Engine) -> Iterator[httpx.Client]:
    with serve(_url(scratch)) as base, httpx.Client(base_url=base, timeout=60) as c:
        yield c


def _problem(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == status
    assert "Traceback" not in r.text


def test_writes_need_a_token(client: httpx.Client) -> None:
    new = {"communities": [COMMUNITY]}
    r = client.post("/plans", json=new)
    _problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    for header in (
        "Bearer",
        "Basic abc",
        "Bearer a b",
        "bearer",
        "Token x",
        "Bearer a\tb",
        "Bearer ééé".encode(),
    ):
        _problem(client.post("/plans", json=new, headers={"Authorization": header}), 401)
    _problem(client.post("/plans", json=new, headers={"Authorization": "Bearer nope"}), 401)
    _problem(client.delete("/plans/1"), 401)
    _problem(client.post("/import/posts", files={"file": ("x.csv", b"a,b\n")}), 401)


def test_roles_and_scopes(client: httpx.Client, scratch: Engine) -> None:
    new = {"communities": [COMMUNITY]}
    _problem(client.post("/plans", json=new, headers=bearer(scratch, "viewer")), 403)
    elsewhere = bearer(scratch, "planner", "659002")
    _problem(client.post("/plans", json=new, headers=elsewhere), 403)
    own = bearer(scratch, "planner", STREET, name="王芳 (street planner)")
    r = client.post("/plans", json=new, headers=own)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["author"] == "王芳 (street planner)"
    # edits on a plan out of the token's scope: 403, and nothing changes
    pid = plan["id"]
    _problem(client.post(f"/plans/{pid}/validate", headers=elsewhere), 403)
    _problem(client.delete(f"/plans/{pid}", headers=elsewhere), 403)
    _problem(client.delete(f"/plans/{pid}", headers=bearer(scratch, "viewer")), 403)
    assert client.get(f"/plans/{pid}").json()["status"] == "draft"
    # unscoped planner and admin may write anywhere
    assert client.post("/plans", json=new, headers=bearer(scratch, "planner")).status_code == 201
    r = client.delete(f"/plans/{pid}", headers=bearer(scratch, "admin", name="admin-1"))
    assert r.status_code == 200, r.text
    with scratch.connect() as conn:
        actors = conn.execute(
            text("SELECT actor FROM change WHERE plan_id = :p ORDER BY id"), {"p": pid}
        ).scalars()
        assert list(actors) == ["王芳 (street planner)", "admin-1"]
        used = conn.execute(
            text("SELECT last_used_at IS NOT NULL FROM api_token WHERE name = 'admin-1'")
        ).scalar_one()
    assert used


def test_revoked_token(client: httpx.Client, scratch: Engine) -> None:
    secret = new_token(scratch, "admin", name="soon revoked")
    headers = {"Authorization": f"Bearer {secret}"}
    new = {"communities": [COMMUNITY]}
    assert client.post("/plans", json=new, headers=headers).status_code == 201
    with scratch.begin() as conn:
        conn.execute(text("UPDATE api_token SET revoked_at = now() WHERE name = 'soon revoked'"))
    r = client.post("/plans", json=new, headers=headers)
    _problem(r, 401)
    assert "revoked" in r.json()["detail"]


def test_import_scope(client: httpx.Client, scratch: Engine) -> None:
    csv = f"code,name,kind,grid_code,lon,lat\nP1,post,station,{COMMUNITY}001,0,0\n".encode()
    files = {"file": ("posts.csv", csv, "text/csv")}
    elsewhere = bearer(scratch, "planner", "659002")
    _problem(client.post("/import/posts", files=files, headers=elsewhere), 403)
    buildings = {"file": ("b.csv", b"households,lon,lat\n1,0,0\n", "text/csv")}
    _problem(client.post("/import/buildings", files=buildings, headers=elsewhere), 403)


def test_reads_open_by_default(client: httpx.Client) -> None:
    assert client.get("/plans").status_code == 200
    assert client.get("/health").status_code == 200


def test_reads_need_a_token_when_set(scratch: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDGOV_READS_NEED_TOKEN", "true")
    with serve(_url(scratch)) as base, httpx.Client(base_url=base, timeout=60) as c:
        _problem(c.get("/plans"), 401)
        _problem(c.get("/ogc/collections"), 401)
        assert c.get("/health").status_code == 200
        assert c.get("/plans", headers=bearer(scratch, "viewer")).status_code == 200
        _problem(c.get("/plans", headers={"Authorization": "Bearer wrong"}), 401)
        for header in ("Basic abc", "Bearer", "Bearer a b", "Token x"):  # malformed: 401
            _problem(c.get("/ogc/collections", headers={"Authorization": header}), 401)


def test_body_over_the_limit_is_413(scratch: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDGOV_MAX_BODY_BYTES", "1000")
    with serve(_url(scratch)) as base, httpx.Client(base_url=base, timeout=60) as c:
        big = {"communities": [COMMUNITY], "note": "x" * 2000}
        _problem(c.post("/plans", json=big, headers=bearer(scratch)), 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"communities": ["' + COMMUNITY.encode() + b'"], "note": "'
            for _ in range(10):
                yield b"x" * 200
            yield b'"}'

        r = c.post(
            "/plans",
            content=chunks(),
            headers={**bearer(scratch), "Content-Type": "application/json"},
        )
        _problem(r, 413)


def _gridgov(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GRIDGOV_DATABASE_URL=_url(engine), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gridgov"), "token", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_token_commands(client: httpx.Client, scratch: Engine) -> None:
    made = _gridgov(scratch, "create", "--role", "planner", "--scope", STREET, "--name", "cli-li")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("ggv_")
    assert "\n" not in secret
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/plans", json={"communities": [COMMUNITY]}, headers=headers).is_success
    listed = _gridgov(scratch, "list")
    assert listed.returncode == 0, listed.stderr
    assert "cli-li" in listed.stdout
    assert secret not in listed.stdout
    with scratch.connect() as conn:
        token_id = conn.execute(text("SELECT id FROM api_token WHERE name = 'cli-li'")).scalar_one()
    revoked = _gridgov(scratch, "revoke", str(token_id))
    assert revoked.returncode == 0, revoked.stderr
    _problem(client.post("/plans", json={"communities": [COMMUNITY]}, headers=headers), 401)
    bad = _gridgov(scratch, "create", "--role", "boss", "--name", "x")
    assert bad.returncode == 1
    assert "viewer, planner, admin" in bad.stderr
    missing = _gridgov(scratch, "revoke", "999999")
    assert missing.returncode == 1
    assert "no such token" in missing.stderr
