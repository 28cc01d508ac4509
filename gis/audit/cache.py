"""Audits computed once per data version and reused until the data change.

An audit is identified by its key: the region, the profile (a digest of its settings and
of the audit's own code), ``as_of``, the plan, and the data versions it was read at. A
scope's data version is the number of committed transactions that wrote a table the
audit reads (rows of ``data_change``, left by statement-level triggers: migration 0004),
so it grows at each such commit and a rolled-back write leaves it as it was. The version
is read *before* the audit starts, so a report never holds data older than its key says;
a write that commits during the audit has moved the version on, so the report stored
under the older number is never served as current.

Reports live in each process's memory (an LRU of ``GRIDGOV_AUDIT_MEMORY_ENTRIES``) and in
the ``audit_cache`` table as the report's JSON, so several server workers and a restarted
server share them. A key is computed once: one computation per key runs in a background
thread of the process, and across processes a PostgreSQL advisory lock on the key makes
the second one wait and read the first one's result. A caller waits for the result at
most ``wait_s`` seconds; then :class:`AuditInProgress` says the audit is still being
computed (the computation goes on and is stored when done).

    >>> from gis.audit.cache import audit_cache  # doctest: +SKIP
    >>> report = audit_cache.get(engine, "652301001000", default_profile())  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from sqlalchemy import Connection, Engine, text

from gis.audit.profile import Profile
from gis.audit.report import AuditReport
from gis.audit.run import run_audit
from gis.errors import GridgovError

__all__ = ["AuditCache", "AuditInProgress", "AuditKey", "audit_cache", "current_key"]


class AuditInProgress(GridgovError):
    """The audit asked for is being computed; ask again shortly."""

    title = "Audit being computed"

    def __init__(self, region: str, started: float) -> None:
        self.region = region
        self.started = started
        self.elapsed = time.monotonic() - started
        super().__init__(
            f"the audit of {region} is being computed (for {self.elapsed:.0f} s so far); "
            "it is kept once done: ask again in a few seconds"
        )


@cache
def code_digest() -> str:
    """A digest of the audit's code: a changed rule never reuses an older report."""
    h = hashlib.sha256()
    for item in sorted(resources.files("gis.audit").iterdir(), key=lambda p: p.name):
        if item.name.endswith((".py", ".yaml")):
            h.update(item.name.encode())
            h.update(item.read_bytes())
    return h.hexdigest()


def profile_digest(profile: Profile) -> str:
    """The profile's settings (name and every rule) and the audit's code, as one digest."""
    return hashlib.sha256((profile.model_dump_json() + code_digest()).encode()).hexdigest()


@dataclass(frozen=True)
class AuditKey:
    """Everything an audit's result depends on."""

    database: str  # the database (URL and oid: a recreated database is another one)
    region: str
    profile_digest: str
    as_of: datetime | None
    plan_id: int | None
    live_version: int
    plans_version: int  # 0 for an audit of live data only: drafts do not change it

    @property
    def digest(self) -> str:
        parts = (
            self.region,
            self.profile_digest,
            "" if self.as_of is None else self.as_of.isoformat(),
            "" if self.plan_id is None else str(self.plan_id),
            str(self.live_version),
            str(self.plans_version),
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @property
    def lock_id(self) -> int:
        """The key as a signed 64-bit advisory-lock id."""
        return int(self.digest[:15], 16)


_VERSIONS = text("""
SELECT (SELECT oid FROM pg_database WHERE datname = current_database()) AS db,
       (SELECT count(*) FROM data_change WHERE scope = 'live') AS live,
       (SELECT count(*) FROM data_change WHERE scope = 'plans') AS plans
""")


def current_key(
    bind: Engine | Connection,
    region: str,
    profile: Profile,
    as_of: datetime | None = None,
    plan_id: int | None = None,
) -> AuditKey:
    """The key of this audit at the data versions committed now."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            row = conn.execute(_VERSIONS).one()
    else:
        row = bind.execute(_VERSIONS).one()
    url = bind.engine.url.render_as_string(hide_password=True)
    return AuditKey(
        database=f"{url}#{row.db}",
        region=region,
        profile_digest=profile_digest(profile),
        as_of=as_of,
        plan_id=plan_id,
        live_version=int(row.live),
        plans_version=0 if plan_id is None else int(row.plans),
    )


_READ = text("""
UPDATE audit_cache SET hits = hits + 1 WHERE key = :key RETURNING report::text AS report
""")
_STORE = text("""
INSERT INTO audit_cache
    (key, region, plan_id, as_of, profile_digest, live_version, plans_version, report, seconds)
VALUES (:key, :region, :plan_id, :as_of, :profile_digest, :live_version, :plans_version,
        CAST(:report AS json), :seconds)
ON CONFLICT (key) DO NOTHING
""")
#: reports read at older versions than one just stored are never current again
_PRUNE = text("""
DELETE FROM audit_cache
WHERE live_version < :live_version OR (plan_id IS NOT NULL AND plans_version < :plans_version)
""")


@dataclass
class _Running:
    future: Future[AuditReport]
    started: float


class AuditCache:
    """The process's audits: an LRU in memory over the ``audit_cache`` table."""

    def __init__(self, memory_entries: int | None = None) -> None:
        self._entries = memory_entries
        self._memory: OrderedDict[tuple[str, str], AuditReport] = OrderedDict()
        self._running: dict[tuple[str, str], _Running] = {}
        self._lock = threading.Lock()
        #: audits this process computed (run_audit calls), and reports it served from the
        #: memory or the table
        self.computed = 0
        self.memory_hits = 0
        self.table_hits = 0

    @property
    def memory_entries(self) -> int:
        if self._entries is None:
            from gis.settings import get_settings

            return get_settings().audit.memory_entries
        return self._entries

    def settle(self) -> None:
        """Wait until every computation this process started has ended (its result or
        error is then in the cache or with its callers)."""
        with self._lock:
            running = [r.future for r in self._running.values()]
        for future in running:
            future.exception()  # waits; an error stays with the future's callers

    def clear_memory(self) -> None:
        """Forget the reports held in memory (the table keeps them)."""
        with self._lock:
            self._memory.clear()

    def get(
        self,
        engine: Engine,
        region: str,
        profile: Profile,
        as_of: datetime | None = None,
        plan_id: int | None = None,
        wait_s: float | None = None,
    ) -> AuditReport:
        """The audit's report at the current data version: reused when already computed,
        else computed once (however many callers ask at the same time).

        ``wait_s`` (``None``: as long as it takes) bounds the wait for a computation:
        :class:`AuditInProgress` when it is not done by then.
        """
        key = current_key(engine, region, profile, as_of, plan_id)
        found = self._remembered(key)
        if found is not None:
            return found
        running = self.start(engine, key, profile)
        try:
            return running.future.result(timeout=wait_s)
        except FutureTimeout:
            raise AuditInProgress(region, running.started) from None

    def warm(self, engine: Engine, region: str, profile: Profile) -> Future[AuditReport]:
        """Start computing the audit in the background unless it is already known; its
        future (done at once when known)."""
        key = current_key(engine, region, profile)
        found = self._remembered(key)
        if found is None:
            return self.start(engine, key, profile).future
        done: Future[AuditReport] = Future()
        done.set_result(found)
        return done

    def start(self, engine: Engine, key: AuditKey, profile: Profile) -> _Running:
        """The computation of ``key``: the one running, or a new background thread."""
        mkey = (key.database, key.digest)
        with self._lock:
            running = self._running.get(mkey)
            if running is not None:
                return running
            running = _Running(Future(), time.monotonic())
            running.future.set_running_or_notify_cancel()
            self._running[mkey] = running
        thread = threading.Thread(
            target=self._compute,
            args=(engine, key, profile, running),
            name=f"audit-{key.region}",
            daemon=True,  # a server stopping does not wait for an audit
        )
        thread.start()
        return running

    def _remembered(self, key: AuditKey) -> AuditReport | None:
        mkey = (key.database, key.digest)
        with self._lock:
            found = self._memory.get(mkey)
            if found is not None:
                self._memory.move_to_end(mkey)
                self.memory_hits += 1
                return found
        return None

    def _remember(self, key: AuditKey, report: AuditReport) -> None:
        mkey = (key.database, key.digest)
        with self._lock:
            self._memory[mkey] = report
            self._memory.move_to_end(mkey)
            while len(self._memory) > self.memory_entries:
                self._memory.popitem(last=False)

    def _compute(self, engine: Engine, key: AuditKey, profile: Profile, running: _Running) -> None:
        try:
            report = self._stored_or_computed(engine, key, profile)
            self._remember(key, report)
            running.future.set_result(report)
        except BaseException as exc:  # handed to every waiter
            running.future.set_exception(exc)
        finally:
            with self._lock:
                self._running.pop((key.database, key.digest), None)

    def _stored_or_computed(self, engine: Engine, key: AuditKey, profile: Profile) -> AuditReport:
        # one transaction: the advisory lock (another process computing the same key makes
        # this one wait, then read its result), the lookup, and the store
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": key.lock_id})
            stored = conn.execute(_READ, {"key": key.digest}).scalar_one_or_none()
            if stored is not None:
                with self._lock:
                    self.table_hits += 1
                return AuditReport.model_validate_json(stored)
            report = run_audit(engine, key.region, profile, key.as_of, None, key.plan_id)
            with self._lock:
                self.computed += 1
            conn.execute(
                _STORE,
                {
                    "key": key.digest,
                    "region": key.region,
                    "plan_id": key.plan_id,
                    "as_of": key.as_of,
                    "profile_digest": key.profile_digest,
                    "live_version": key.live_version,
                    "plans_version": key.plans_version,
                    "report": report.model_dump_json(),
                    "seconds": report.seconds,
                },
            )
            conn.execute(
                _PRUNE,
                {"live_version": key.live_version, "plans_version": key.plans_version},
            )
        return report


#: the process's cache, shared by the pages and the audit API
audit_cache = AuditCache()
