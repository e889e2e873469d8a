"""The leads' part of the demo show: visitors who came, whose badges the exhibitors scanned at their booths
on the show days so far (today only up to now), never before the visitor registered."""
from __future__ import annotations

from sqlalchemy import insert, select

from ..core.demo import DemoLead, DemoWorld
from ..extensions import db
from . import follow_up_demo
from .models import Lead, LeadAnswer, LeadQuestion

RATINGS = ("hot", "warm", "warm", "cold", None)
# The qualifying questions a typical furniture exhibitor asks at the booth (expo.leads.questions).
QUESTIONS = (
    ("budget", "single", "Budget this year?", "今年的采购预算？",
     [{"value": "under_50k", "en": "Under ¥50k", "zh": "5万元以下"},
      {"value": "50k_500k", "en": "¥50k – 500k", "zh": "5万–50万元"},
      {"value": "over_500k", "en": "Over ¥500k", "zh": "50万元以上"}]),
    ("products", "multi", "Which products?", "感兴趣的产品",
     [{"value": "sofas", "en": "Sofas", "zh": "沙发"}, {"value": "beds", "en": "Beds", "zh": "床"},
      {"value": "office", "en": "Office furniture", "zh": "办公家具"}]),
    ("visit", "yes_no", "Wants a visit?", "需要上门拜访？", []),
)


def contribute(world: DemoWorld) -> None:
    rng = world.rng
    for edition in world.editions:
        windows = world.show_windows(edition)
        eligible = [r for r in world.registrations.get(edition.id, []) if r.came]
        if not windows or not eligible:
            world.leads[edition.id] = []
            continue
        rows = []
        for exhibitor in world.exhibitors.get(edition.id, []):
            staff = world.staff.get(exhibitor.id)
            size = min(len(eligible), rng.randint(3, max(4, len(eligible) // 20)))
            for registration in rng.sample(eligible, k=size):
                open_windows = [(max(start, registration.created_at), end) for start, end in windows
                                if end >= registration.created_at]
                if not open_windows:
                    continue
                at = world.moment(*rng.choice(open_windows))
                rows.append({"organizer_id": world.organizer.id, "exhibitor_id": exhibitor.id,
                             "registration_id": registration.id,
                             "captured_by_id": rng.choice(staff) if staff else None,
                             "rating": rng.choice(RATINGS), "notes": "", "scan_count": 1,
                             "first_scanned_at": at, "last_scanned_at": at})
        if rows:
            db.session.execute(insert(Lead), rows)
        ids = dict(((exhibitor_id, reg_id), lead_id) for lead_id, exhibitor_id, reg_id in db.session.execute(
            select(Lead.id, Lead.exhibitor_id, Lead.registration_id).where(
                Lead.exhibitor_id.in_([e.id for e in world.exhibitors.get(edition.id, [])]))))
        _questions_and_answers(world, edition, ids)
        world.leads[edition.id] = [
            DemoLead(id=ids[(row["exhibitor_id"], row["registration_id"])], exhibitor_id=row["exhibitor_id"],
                     registration_id=row["registration_id"], captured_by_id=row["captured_by_id"],
                     at=row["first_scanned_at"]) for row in rows]
        follow_up_demo.contribute(world, edition, world.leads[edition.id])


def _questions_and_answers(world: DemoWorld, edition, ids: dict) -> None:
    """Half of the exhibitors ask the usual questions; a rated lead of theirs has answers to some."""
    rng = world.rng
    asking = [e for e in world.exhibitors.get(edition.id, []) if rng.random() < 0.5]
    if not asking:
        return
    db.session.execute(insert(LeadQuestion), [
        {"organizer_id": world.organizer.id, "exhibitor_id": e.id, "key": key, "kind": kind, "label_en": en,
         "label_zh": zh, "choices": choices, "position": n, "active": True, "required": key == "budget"}
        for e in asking for n, (key, kind, en, zh, choices) in enumerate(QUESTIONS, start=1)])
    chosen = {e.id for e in asking}
    answers = []
    for (exhibitor_id, _registration_id), lead_id in ids.items():
        if exhibitor_id not in chosen or rng.random() < 0.4:
            continue
        for key, kind, _en, _zh, choices in QUESTIONS:
            if rng.random() < 0.3:
                continue
            if kind == "multi":
                values = [c["value"] for c in choices if rng.random() < 0.5] or [choices[0]["value"]]
            elif kind == "single":
                values = [rng.choice(choices)["value"]]
            else:
                values = [rng.choice(("yes", "no"))]
            answers += [{"organizer_id": world.organizer.id, "exhibitor_id": exhibitor_id, "lead_id": lead_id,
                         "question_key": key, "value": value} for value in values]
    if answers:
        db.session.execute(insert(LeadAnswer), answers)
