"""Answers to one rebooking offer at the same moment (two admins of the company, a double click): exactly one
answer counts, the company gets one exhibitor row, the others are told the offer is answered. Real threads,
each with its own session and commit like a web worker (PostgreSQL: the offer's row lock; SQLite: the write
lock)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.postshow import rebooking
from expo.postshow.models import RebookingOffer

from ..conftest import race


def test_concurrent_answers_to_one_offer_count_once(app, make):
    organizer = make.organizer()
    last = make.edition(organizer, starts_on=date.today() - timedelta(days=1))
    this = make.edition(organizer, show=last.show, starts_on=date.today() + timedelta(days=360), status="draft")
    exhibitor = make.exhibitor(last, "Racing Chairs Ltd.")
    offers = rebooking.make_offers(Scope(organizer.id), this, last,
                                   rebooking.OfferTerms(deadline_on=date.today() + timedelta(days=20)))
    db.session.commit()
    offer_id, this_id, company_id = offers[0].id, this.id, exhibitor.company_id
    db.session.remove()

    def answer(n):
        offer = db.session.get(RebookingOffer, offer_id)
        if n % 2:
            rebooking.decline(offer, "budget")
            return "declined"
        rebooking.accept(offer)
        return "accepted"

    outcomes = race(app, answer, list(range(6)), timeout=60)
    done = [o for o in outcomes if not isinstance(o, ServiceError)]
    assert len(done) == 1, outcomes
    assert all("cannot be answered" in str(o) for o in outcomes if isinstance(o, ServiceError))
    offer = db.session.get(RebookingOffer, offer_id)
    assert offer.status == done[0]
    rows = db.session.scalar(select(func.count(Exhibitor.id)).where(Exhibitor.edition_id == this_id,
                                                                    Exhibitor.company_id == company_id))
    assert rows == (1 if done[0] == "accepted" else 0)
