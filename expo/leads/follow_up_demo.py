"""The follow-up part of the demo show: the exhibitors follow up their leads after the show, some within days,
some late, some never; past editions' leads end won or lost, the live edition's are under way with next steps
(some due today, some overdue). Called by leads.demo for each edition, after its leads exist."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, update

from ..core.demo import DemoWorld
from ..extensions import db
from .follow_up import LOST_REASONS
from .models import Lead, LeadFollowUp

REASONS = tuple(LOST_REASONS)


def contribute(world: DemoWorld, edition, leads: list) -> None:
    rng, now = world.rng, world.now
    if not leads:
        return
    # how diligent each exhibitor is: the share of leads followed up at all, and how fast (days)
    habits = {}
    for exhibitor_id in sorted({lead.exhibitor_id for lead in leads}):
        kind = rng.random()
        habits[exhibitor_id] = (0.9, (0.3, 4)) if kind < 0.35 else ((0.6, (2, 12)) if kind < 0.75 else (0.25, (6, 25)))
    changes, history = [], []
    for lead in leads:
        share, (fast, slow) = habits[lead.exhibitor_id]
        actor = lead.captured_by_id
        moves: list[tuple[str, str, object]] = []
        state, at = "to_contact", lead.at
        values: dict = {"won_value": None, "lost_reason": "", "next_step_on": None}
        if rng.random() < share:
            steps = [("contacted", rng.uniform(fast, slow))]
            roll = rng.random()
            if roll < 0.55:
                steps.append(("quote_sent", rng.uniform(2, 10)))
                roll = rng.random()
                if roll < 0.4:
                    steps.append(("won", rng.uniform(5, 30)))
                elif roll < 0.7:
                    steps.append(("lost", rng.uniform(5, 30)))
            elif roll < 0.7:
                steps.append(("lost", rng.uniform(1, 10)))
            # the live edition's leads: the show is on, the keen ones call back within hours, a few sign at the stand
            scale = 0.12 if lead.at > now - timedelta(days=10) else 1.0
            for target, days in steps:
                when = at + timedelta(days=days * scale, minutes=rng.randint(0, int(600 * scale)))
                if when > now:
                    break
                moves.append((state, target, when))
                state, at = target, when
        if state == "won":
            values["won_value"] = Decimal(rng.choice((12, 25, 40, 60, 85, 120, 180, 260, 480))) * 1000
        elif state == "lost":
            values["lost_reason"] = rng.choice(REASONS)
        elif lead.at > now - timedelta(days=60) and rng.random() < 0.7:
            # the live edition's open leads: a next step around today (some overdue, some due, most ahead)
            values["next_step_on"] = world.today + timedelta(days=rng.choice((-3, -1, 0, 0, 1, 2, 4, 7, 14)))
        first = moves[0][2] if moves else None
        changes.append({"id": lead.id, "follow_up_status": state, "follow_up_at": at if moves else None,
                        "follow_up_by_id": actor if moves else None, "first_followed_up_at": first, **values})
        for source, target, when in moves:
            history.append({"organizer_id": world.organizer.id, "exhibitor_id": lead.exhibitor_id, "lead_id": lead.id,
                            "from_status": source, "to_status": target, "moved_at": when, "moved_by_id": actor,
                            "next_step_on": None, "lost_reason": values["lost_reason"] if target == "lost" else "",
                            "won_value": values["won_value"] if target == "won" else None})
    db.session.execute(update(Lead), changes)
    if history:
        db.session.execute(insert(LeadFollowUp), history)
