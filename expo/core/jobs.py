"""Background jobs a user started (imports, badge batches): progress, outcome and result files.

A view creates the job (:func:`create`, in the request's transaction) and hands its id to a Celery task
(sent after the commit); the task reports progress with :func:`start`/:func:`advance` and ends with
:func:`finish` or :func:`fail`. Those write in short transactions of their own, on their own connection,
so the progress page sees them while the task's work is still running — call them only for a committed
job. The task itself never changes the job row through its session (that would hold a row lock
:func:`advance` waits for on PostgreSQL).

Result files live in ``INSTANCE_DIR/jobs/<id>/`` (:func:`file_path`); the job page links every file
named in ``job.result["files"]``. ``params["permission"]`` names the permission needed to see the job
(without one, any organizer staff member of the job's organizer may).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import func, literal, select, update

from ..extensions import db
from .db import UTCDateTime, utcnow
from .models import Job
from .scoping import Scope

FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MESSAGE_LIMIT = 2000


def create(kind: str, *, organizer_id: int, user_id: int | None, edition_id: int | None = None,
           params: dict | None = None) -> Job:
    """A queued job, flushed in the caller's transaction (the view, CLI command or task commits it; a task
    started with ``.delay(job.id)`` is sent after that commit, so the worker finds the row)."""
    job = Job(organizer_id=organizer_id, user_id=user_id, edition_id=edition_id, kind=kind, status="queued",
              total=0, done=0, error_count=0, message="", params=params or {}, result={}, created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    return job


@contextmanager
def _own_transaction():
    """A connection in a transaction of its own, committed at the end of the block — unless, on SQLite, the
    caller's session holds the write lock already (a second connection would wait for it in vain): then the
    caller's connection, in the caller's transaction."""
    session = db.session()
    if session.in_transaction():
        connection = session.connection()
        if connection.dialect.name == "sqlite" and connection.connection.driver_connection.in_transaction:
            yield connection
            return
    with db.engine.begin() as connection:
        yield connection


def _write(job_id: int, **values) -> None:
    """One UPDATE of the job in a transaction of its own (see _own_transaction)."""
    with _own_transaction() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(**values))
    # The caller's session may hold the job loaded: let it read the new values next time.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Job) and obj.id == job_id:
            db.session.expire(obj)


def _now():
    return literal(utcnow(), type_=UTCDateTime())


def start(job_id: int, total: int | None = None) -> None:
    values = {"status": "running", "started_at": utcnow()}
    if total is not None:
        values["total"] = max(0, int(total))
    _write(job_id, **values)


def advance(job_id: int, done: int, total: int | None = None, errors: int | None = None) -> None:
    """Progress: ``done`` of ``total`` units, ``errors`` bad ones so far. A queued job becomes running."""
    values = {"done": max(0, int(done)), "status": "running", "started_at": func.coalesce(Job.started_at, _now())}
    if total is not None:
        values["total"] = max(0, int(total))
    if errors is not None:
        values["error_count"] = max(0, int(errors))
    _write(job_id, **values)


def finish(job_id: int, result: dict | None = None, message: str = "") -> None:
    _write(job_id, status="done", result=result or {}, message=str(message)[:MESSAGE_LIMIT], finished_at=utcnow(),
           started_at=func.coalesce(Job.started_at, _now()))


def fail(job_id: int, message: str) -> None:
    _write(job_id, status="failed", message=str(message)[:MESSAGE_LIMIT], finished_at=utcnow())


def get(job_id: int) -> Job | None:
    return db.session.get(Job, job_id)


def directory(job: Job | int) -> Path:
    job_id = job if isinstance(job, int) else job.id
    return Path(current_app.config["INSTANCE_DIR"]) / "jobs" / str(int(job_id))


def file_path(job: Job | int, name: str) -> Path:
    """Where the job's result file ``name`` lives (its folder is created). Names are plain: letters, digits,
    dots, hyphens, underscores — never a path."""
    if not FILE_NAME.fullmatch(name or "") or ".." in name:
        raise ValueError(f"not a job file name: {name!r}")
    folder = directory(job)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def files(job: Job) -> list[str]:
    """The result files the job names (``result["files"]``) that exist."""
    names = (job.result or {}).get("files") or []
    return [n for n in names if isinstance(n, str) and FILE_NAME.fullmatch(n) and (directory(job) / n).is_file()]


def visible(job: Job | None, scope: Scope, permissions) -> bool:
    """May a user of ``scope`` holding ``permissions`` (a callable name -> bool) see the job?"""
    if job is None or job.organizer_id != scope.organizer_id or scope.exhibitor_id is not None:
        return False
    needed = (job.params or {}).get("permission")
    return not needed or permissions(needed)


def status(job: Job) -> dict:
    """What the progress page polls."""
    return {"id": job.id, "kind": job.kind, "status": job.status, "total": job.total, "done": job.done,
            "errors": job.error_count, "percent": job.percent, "message": job.message,
            "finished": job.status in ("done", "failed"), "files": files(job),
            "result": {k: v for k, v in (job.result or {}).items() if k != "files"}}


def recent(scope: Scope, kind_prefix: str | None = None, limit: int = 20) -> list[Job]:
    stmt = select(Job).where(Job.organizer_id == scope.organizer_id)
    if kind_prefix:
        stmt = stmt.where(Job.kind.startswith(kind_prefix))
    return list(db.session.scalars(stmt.order_by(Job.id.desc()).limit(limit)))
