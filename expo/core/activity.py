"""The activity timeline: one record per touch with a customer, written by every module, read as one
timeline on the person and company pages (customer 360).

Writers call :func:`record` inside their own transaction (a plain INSERT, like the audit log). A module
declares the kinds it writes with their words and icons (``Module.activity_kinds``); the timeline shows a
kind nobody declared by its code. What an activity may say is the writer's responsibility: details are
shown to organizer staff, so an exhibitor's lead notes never go there — counts and ratings do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from ..extensions import db
from .db import utcnow
from .models import Activity
from .paging import Page
from .registry import ActivityKind, registry
from .scoping import Scope

SUBJECT_TYPES = ("person", "company")
UNKNOWN_KIND = ActivityKind(label="", icon="dot")


def record(kind: str, *, organizer_id: int, subject_type: str, subject_id: int, edition_id: int | None = None,
           user_id: int | None = None, obj=None, object_type: str | None = None, object_id: int | None = None,
           details: dict | None = None, at: datetime | None = None) -> None:
    """Add one activity to a person's or a company's timeline, in the current transaction. ``obj``: a
    flushed row the activity is about (or name it by ``object_type``/``object_id``)."""
    if subject_type not in SUBJECT_TYPES:
        raise ValueError(f"unknown activity subject {subject_type!r}")
    db.session.connection().execute(insert(Activity), {  # parameters, not .values(): a cached statement
        "organizer_id": organizer_id, "subject_type": subject_type, "subject_id": subject_id,
        "edition_id": edition_id, "kind": kind, "at": at or utcnow(), "user_id": user_id, "details": details or {},
        "object_type": obj.__tablename__ if obj is not None else object_type,
        "object_id": obj.id if obj is not None else object_id,
    })


def record_many(rows: list[dict]) -> None:
    """Many activities in one INSERT (imports): each dict holds :func:`record`'s keyword arguments, with
    ``kind`` and without ``obj``."""
    if not rows:
        return
    now = utcnow()
    values = []
    for row in rows:
        if row["subject_type"] not in SUBJECT_TYPES:
            raise ValueError(f"unknown activity subject {row['subject_type']!r}")
        values.append({"edition_id": None, "user_id": None, "object_type": None, "object_id": None,
                       "details": {}, "at": now, **row})
    db.session.connection().execute(insert(Activity), values)


@dataclass(frozen=True)
class Entry:
    """One line of a timeline, as a page shows it."""

    activity: Activity
    kind: ActivityKind

    @property
    def text(self) -> str:
        label = self.kind.label
        if not label:
            return self.activity.kind
        fields = _Fields(self.activity.details or {})
        try:
            return str(label) % fields
        except (TypeError, ValueError, KeyError):
            return str(label)


class _Fields(dict):
    def __missing__(self, key):
        return "…"


def describe(activity: Activity) -> Entry:
    return Entry(activity, registry.activity_kinds().get(activity.kind, UNKNOWN_KIND))


def timeline(scope: Scope, subject_type: str, subject_id: int | list[int], *, page: int = 1, per_page: int = 50,
             edition_id: int | None = None) -> Page:
    """A person's or company's timeline, newest first (``subject_id`` may list several: a kept person
    and the persons merged into it)."""
    ids = subject_id if isinstance(subject_id, list) else [subject_id]
    where = [Activity.organizer_id == scope.organizer_id, Activity.subject_type == subject_type,
             Activity.subject_id.in_(ids)]
    if edition_id is not None:
        where.append(Activity.edition_id == edition_id)
    total = db.session.scalar(select(func.count()).select_from(Activity).where(*where)) or 0
    rows = db.session.scalars(
        select(Activity).where(*where).order_by(Activity.at.desc(), Activity.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return Page([describe(a) for a in rows], total, max(page, 1), per_page)
