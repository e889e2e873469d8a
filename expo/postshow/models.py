"""Post-show tables (issue 8: rebooking offers).

A rebooking offer asks a company that took part in one edition (``from_edition``) to book again for the next
edition of the show (``edition``): it carries the company's results at the last edition (leads, hot leads,
meetings; satisfaction once surveys exist), a deadline to answer and a priority window in which those who
accept choose their booth before the general sale. The company answers in the portal; an accepted offer
makes it an exhibitor of the next edition (``new_exhibitor``) at the stage the organizer chose.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition
from ..core.states import Machine, State
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db

# open: mailed, waiting for the company's answer. An expired or declined offer can be opened again (with a new
# deadline) by the organizer; an accepted one lives on as the exhibitor row in the pipeline.
REBOOKING_STATUS = Machine("rebooking_status", [
    State("open", _l("Waiting for an answer"), "warning", "hourglass-split"),
    State("accepted", _l("Accepted"), "success", "check-circle"),
    State("declined", _l("Declined"), "secondary", "x-circle"),
    State("expired", _l("Expired"), "danger", "clock-history"),
    State("withdrawn", _l("Withdrawn"), "dark", "slash-circle"),
], moves={
    "open": ("accepted", "declined", "expired", "withdrawn"),
    "expired": ("open", "withdrawn"),
    "declined": ("open", "withdrawn"),
    "accepted": (),
    "withdrawn": (),
})
REBOOKING_STATUSES = REBOOKING_STATUS.codes
ANSWERED = ("accepted", "declined")

DECLINE_REASON = Machine("rebooking_decline_reason", [
    State("budget", _l("No budget this year"), "secondary", "cash"),
    State("results", _l("Results were not good enough"), "secondary", "graph-down"),
    State("dates", _l("The dates do not suit us"), "secondary", "calendar-x"),
    State("other_show", _l("We go to another show"), "secondary", "signpost-split"),
    State("business", _l("Our business changed"), "secondary", "building"),
    State("other", _l("Another reason"), "secondary", "three-dots"),
])
DECLINE_REASONS = DECLINE_REASON.codes

# The pipeline stage an accepted offer puts the company in: "negotiating" (sales follows up with a contract)
# or "contracted" (the acceptance is the booking, on the offer's terms).
ACCEPT_STAGES = ("negotiating", "contracted")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class RebookingOffer(db.Model):
    __tablename__ = "rebooking_offers"
    __table_args__ = (
        UniqueConstraint("edition_id", "company_id"),
        CheckConstraint(REBOOKING_STATUS.check("status"), name="valid_status"),
        CheckConstraint(f"decline_reason IS NULL OR {DECLINE_REASON.check('decline_reason')}",
                        name="valid_decline_reason"),
        CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name="declined_with_reason"),
        CheckConstraint(_in("accept_stage", ACCEPT_STAGES), name="valid_accept_stage"),
        CheckConstraint("edition_id <> from_edition_id", name="another_edition"),
        CheckConstraint("priority_from IS NULL OR priority_until IS NULL OR priority_from <= priority_until",
                        name="priority_window_in_order"),
        CheckConstraint("leads >= 0 AND hot_leads >= 0 AND hot_leads <= leads AND meetings >= 0",
                        name="results_not_negative"),
        CheckConstraint("wanted_area_m2 IS NULL OR wanted_area_m2 > 0", name="positive_wanted_area"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))  # the edition offered (unique with company)
    from_edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    # The company's participation in from_edition (its results, its booth; its staff read the offer).
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    deadline_on: Mapped[date]  # answers until the end of this day, in the offered edition's zone
    priority_from: Mapped[date | None]  # the window in which those who accept choose their booth first
    priority_until: Mapped[date | None]
    accept_stage: Mapped[str] = mapped_column(String(20), default="negotiating")
    message: Mapped[str] = mapped_column(Text, default="")
    # The results at from_edition, as mailed with the offer (a snapshot: later scans do not change the offer).
    leads: Mapped[int] = mapped_column(default=0)
    hot_leads: Mapped[int] = mapped_column(default=0)
    meetings: Mapped[int] = mapped_column(default=0)  # agreed or held
    satisfaction: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))  # from a survey module, when there is one
    results: Mapped[dict] = mapped_column(JSON, default=dict)  # booth, m², visitors, more figures from hooks
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_to: Mapped[int] = mapped_column(default=0)  # how many addresses the last mailing reached
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(20))
    decline_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    wanted_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    booth_wish: Mapped[str] = mapped_column(String(500), default="", server_default="")
    new_exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)

    edition: Mapped[Edition] = relationship(foreign_keys=[edition_id])
    from_edition: Mapped[Edition] = relationship(foreign_keys=[from_edition_id])
    company: Mapped[Company] = relationship()
    exhibitor: Mapped[Exhibitor] = relationship(foreign_keys=[exhibitor_id])
    new_exhibitor: Mapped[Exhibitor | None] = relationship(foreign_keys=[new_exhibitor_id])

    @property
    def status_state(self) -> State:
        return REBOOKING_STATUS.state(self.status)

    @property
    def hot_share(self) -> float | None:
        return self.hot_leads / self.leads if self.leads else None

from .models_customers import CustomerValueSettings  # noqa: E402,F401  (issue 11, customers part)
from .models_predictions import PredictionRun, PredictionScore  # noqa: E402,F401  (issue 11, predictions part)
from .models_analytics import AnalyticsSnapshot  # noqa: E402,F401  (issue 11, analytics part)
