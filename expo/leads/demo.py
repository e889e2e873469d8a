"""The leads' part of the demo show: visitors who came, whose badges the exhibitors scanned at their booths
on the show days so far (today only up to now), never before the visitor registered."""
from __future__ import annotations

from sqlalchemy import insert, select

from ..core.demo import DemoLead, DemoWorld
from ..extensions import db
from .models import Lead

RATINGS = ("hot", "warm", "warm", "cold", None)


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
        world.leads[edition.id] = [
            DemoLead(id=ids[(row["exhibitor_id"], row["registration_id"])], exhibitor_id=row["exhibitor_id"],
                     registration_id=row["registration_id"], captured_by_id=row["captured_by_id"],
                     at=row["first_scanned_at"]) for row in rows]
