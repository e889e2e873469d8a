"""The one way to query tenant data: every select goes through the caller's scope."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import select

from ..extensions import db


@dataclass(frozen=True)
class Scope:
    organizer_id: int
    exhibitor_id: int | None = None  # set for exhibitor staff: they see only their exhibitor's rows

    @classmethod
    def of(cls, user) -> Scope:
        return cls(user.organizer_id, user.exhibitor_id if user.is_exhibitor_staff else None)


class ScopeRefused(LookupError):
    """An exhibitor's scope asked for rows that belong to no exhibitor: refused, never widened to the
    whole organizer. What exhibitors may see of visitors goes through expo.visitors.services."""


def exhibitor_column(model):
    """The column that ties a table's rows to one exhibitor: ``__exhibitor_column__`` on the model
    (the exhibitors table names its own ``id``), else an ``exhibitor_id`` column, else None."""
    name = getattr(model, "__exhibitor_column__", None) or ("exhibitor_id" if hasattr(model, "exhibitor_id") else None)
    return getattr(model, name) if name else None


def scoped(model, scope: Scope, *columns):
    """``select(model)`` (or the given columns) limited to the scope's organizer and, for exhibitor staff,
    to their exhibitor's rows. A table without an exhibitor column is refused for exhibitor staff."""
    stmt = select(*columns) if columns else select(model)
    stmt = stmt.where(model.organizer_id == scope.organizer_id)
    if scope.exhibitor_id is not None:
        column = exhibitor_column(model)
        if column is None:
            raise ScopeRefused(f"{model.__tablename__} has no exhibitor column: not in an exhibitor's scope")
        stmt = stmt.where(column == scope.exhibitor_id)
    return stmt


def get_scoped(model, ident, scope: Scope):
    """The row with this id inside the scope, or None (a foreign row looks exactly like a missing one)."""
    if ident is None:
        return None
    return db.session.scalar(scoped(model, scope).where(model.id == ident))


def get_scoped_or_404(model, ident, scope: Scope):
    row = get_scoped(model, ident, scope)
    if row is None:
        abort(404)
    return row


def get_in_edition_or_404(model, ident, edition_id: int, scope: Scope):
    """A row addressed under its edition's URL; under another edition's URL it does not exist."""
    row = get_scoped_or_404(model, ident, scope)
    if row.edition_id != edition_id:
        abort(404)
    return row
