"""The post-show part of the demo: rebooking offers from the closed edition into the live one.

The companies of the closed edition that take part in the live one accepted their offer; of the others, some
declined (with a reason), some let the deadline pass, and a few late offers still wait for an answer. Rows are
written directly (no mail: the demo's outbox stays for the mails people trigger themselves)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..core.demo import DemoWorld
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from .models import DECLINE_REASONS, RebookingOffer
from .rebooking import exhibitor_results

NOTES = {"budget": "预算削减，明年再考虑。", "results": "Too few buyers from Europe for us.",
         "dates": "和我们的广交会档期冲突。", "other_show": "We go to Milan this year.", "business": "", "other": ""}


def contribute(world: DemoWorld) -> None:
    _rebooking_offers(world)
    # Issue 11's parts, each in its own file.
    from . import customers_demo, predictions_demo, winback_demo

    customers_demo.contribute(world)
    predictions_demo.contribute(world)
    winback_demo.contribute(world)


def _rebooking_offers(world: DemoWorld) -> None:
    if len(world.editions) < 2:
        return
    closed, live = world.editions[-2], world.editions[-1]
    rng, zone = world.rng, ZoneInfo(live.timezone)
    exhibitors = world.exhibitors.get(closed.id, [])
    results = exhibitor_results(world.scope, [e.id for e in exhibitors])
    now_live = dict(db.session.execute(select(Exhibitor.company_id, Exhibitor.id).where(
        Exhibitor.edition_id == live.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))).all())
    sent = datetime.combine(closed.ends_on + timedelta(days=10), time(10), zone)
    deadline = (sent + timedelta(days=60)).date()
    owner_id = world.user_ids.get("manager") or world.user_ids.get("owner")
    message = ("感谢您参加本届展会！老展商可在优先选位期内优先挑选展位，并享受早鸟价格。\n"
               "Thank you for exhibiting! Returning exhibitors choose their booth first, at the early-bird price.")
    for exhibitor in exhibitors:
        figures = results[exhibitor.id]
        offer = RebookingOffer(
            organizer_id=world.organizer.id, edition_id=live.id, from_edition_id=closed.id,
            company_id=exhibitor.company_id, exhibitor_id=exhibitor.id, status="open", deadline_on=deadline,
            priority_from=deadline + timedelta(days=7), priority_until=deadline + timedelta(days=21),
            accept_stage="negotiating", message=message, leads=figures["leads"], hot_leads=figures["hot_leads"],
            meetings=figures["meetings"], satisfaction=figures["satisfaction"],
            results={"booth": exhibitor.booth, "area_m2": str(exhibitor.area_m2) if exhibitor.area_m2 else None,
                     "booth_type": None},
            sent_at=sent, mailed_to=1, created_by_id=owner_id, created_at=sent)
        answered = world.moment(sent, datetime.combine(deadline, time(17), zone))
        if exhibitor.company_id in now_live:
            offer.status, offer.answered_at = "accepted", answered
            offer.new_exhibitor_id = now_live[exhibitor.company_id]
            offer.wanted_area_m2 = exhibitor.area_m2
            offer.booth_wish = rng.choice(("", "Same stand as last year 与去年相同的展位", "A corner booth 角位", ""))
        else:
            roll = rng.random()
            if roll < 0.45:
                reason = rng.choice(DECLINE_REASONS)
                offer.status, offer.answered_at = "declined", answered
                offer.decline_reason, offer.decline_note = reason, NOTES[reason]
            elif roll < 0.75:
                offer.status = "expired"
            else:  # a late offer: sent ten days ago, answerable until the show's last day
                offer.sent_at = offer.created_at = world.now - timedelta(days=10)
                offer.deadline_on, offer.priority_from, offer.priority_until = live.ends_on, None, None
        db.session.add(offer)
    db.session.flush()
