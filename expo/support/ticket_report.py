"""The SLA report of an edition's tickets: on-time share, overdue now, median time to first response and to
resolution, by kind, urgency and owner, and the requesters' satisfaction with the resolution.

Plain functions over the edition's tickets, with an explicit ``now``. Times are in hours of elapsed time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..core.db import utcnow
from ..core.scoping import Scope, scoped
from ..extensions import db
from .models import TICKET_KIND, TICKET_OPEN_STATUSES, TICKET_URGENCY, Ticket
from .sla import median


@dataclass
class Figures:
    """The figures of one group of tickets."""
    label: str = ""
    key: str = ""
    total: int = 0
    open: int = 0  # open or in progress
    overdue: int = 0  # open and past the deadline now
    resolved: int = 0  # resolved (or closed after a resolution)
    on_time: int = 0  # resolved by the deadline
    response_hours: list = field(default_factory=list)
    resolution_hours: list = field(default_factory=list)
    ratings: list = field(default_factory=list)

    def add(self, ticket: Ticket, now: datetime) -> None:
        self.total += 1
        if ticket.status in TICKET_OPEN_STATUSES:
            self.open += 1
            if ticket.due_at < now:
                self.overdue += 1
        if ticket.resolved_at is not None:
            self.resolved += 1
            if ticket.resolved_at <= ticket.due_at:
                self.on_time += 1
            self.resolution_hours.append((ticket.resolved_at - ticket.created_at).total_seconds() / 3600)
        if ticket.first_response_at is not None:
            self.response_hours.append((ticket.first_response_at - ticket.created_at).total_seconds() / 3600)
        if ticket.rating is not None:
            self.ratings.append(ticket.rating)

    @property
    def on_time_share(self) -> float | None:
        """Share of the resolved tickets resolved by their deadline."""
        return self.on_time / self.resolved if self.resolved else None

    @property
    def median_response(self) -> float | None:
        return median(self.response_hours)

    @property
    def median_resolution(self) -> float | None:
        return median(self.resolution_hours)

    @property
    def satisfaction(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    @property
    def rated(self) -> int:
        return len(self.ratings)


@dataclass
class Report:
    overall: Figures
    by_kind: list[Figures]
    by_urgency: list[Figures]
    by_owner: list[Figures]
    rating_counts: dict[int, int]  # 1..5 -> how many
    comments: list[Ticket]  # rated with a comment, newest first

    def chart(self) -> dict:
        """Resolved on time / late and open in time / overdue, by kind (a stacked bar for ui.chart)."""
        rows = self.by_kind
        return {"type": "stack", "categories": [f.label for f in rows], "series": [
            {"name": _("Resolved on time"), "data": [f.on_time for f in rows]},
            {"name": _("Resolved late"), "data": [f.resolved - f.on_time for f in rows]},
            {"name": _("Open, in time"), "data": [f.open - f.overdue for f in rows]},
            {"name": _("Overdue"), "data": [f.overdue for f in rows]},
        ], "option": {"color": ["#20a36b", "#f59f00", "#2f6fed", "#d6336c"]}}

    def rating_chart(self) -> dict:
        return {"type": "bar", "categories": [f"{n}★" for n in range(1, 6)],
                "series": [{"name": _("Ratings"), "data": [self.rating_counts[n] for n in range(1, 6)]}]}


def build(tickets: list[Ticket], now: datetime) -> Report:
    overall = Figures(label=_("All tickets"))
    kinds = {code: Figures(label=TICKET_KIND.label(code), key=code) for code in TICKET_KIND.codes}
    urgencies = {code: Figures(label=TICKET_URGENCY.label(code), key=code) for code in TICKET_URGENCY.codes}
    owners: dict[int | None, Figures] = {}
    ratings = {n: 0 for n in range(1, 6)}
    for ticket in tickets:
        overall.add(ticket, now)
        kinds[ticket.kind].add(ticket, now)
        urgencies[ticket.urgency].add(ticket, now)
        if ticket.owner_id not in owners:
            owners[ticket.owner_id] = Figures(label=ticket.owner.name if ticket.owner else _("Nobody"),
                                              key=str(ticket.owner_id or 0))
        owners[ticket.owner_id].add(ticket, now)
        if ticket.rating is not None:
            ratings[ticket.rating] += 1
    comments = sorted((t for t in tickets if t.rating is not None and t.rating_comment),
                      key=lambda t: t.rated_at, reverse=True)[:20]
    by_owner = sorted(owners.values(), key=lambda f: (f.key == "0", f.label.lower()))
    return Report(overall, list(kinds.values()), list(urgencies.values()), by_owner, ratings, comments)


def report(scope: Scope, edition_id: int, *, now: datetime | None = None) -> Report:
    tickets = list(db.session.scalars(scoped(Ticket, Scope(scope.organizer_id))
                                      .options(joinedload(Ticket.owner))
                                      .where(Ticket.edition_id == edition_id)))
    return build(tickets, now or utcnow())
