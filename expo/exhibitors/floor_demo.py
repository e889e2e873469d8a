"""The demo's floor part (issue 8): a half-sold floor plan for the live edition (two halls), and a sales history
for every edition (when each deal was first entered and moved along the pipeline) so that the forecast has a
previous edition to compare with at the same days before the show."""
from __future__ import annotations

import math
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from ..core.models import AuditEntry
from ..extensions import db
from . import floorplan
from .floor_models import Stand
from .models import PARTICIPATING_STATUSES, WITHDRAWN_STATUSES, BoothType, Exhibitor

WIDTHS = (6, 3, 3, 9, 3, 6, 3, 6)  # stand frontages along a row, metres; every stand is 3 m deep
PER_ROW = 8
PATH = ("prospect", "contacted", "negotiating", "contracted", "paid", "exhibited")
CHAINS = {status: PATH[: PATH.index(status) + 1] for status in PATH}
CHAINS["lost"] = ("prospect", "contacted", "lost")
CHAINS["cancelled"] = ("prospect", "contacted", "negotiating", "contracted", "cancelled")


def contribute(world) -> None:
    for edition in world.editions:
        _sales_history(world, edition)
    _floor_plan(world, world.live)
    db.session.flush()


def _floor_plan(world, edition) -> None:
    rng, scope = world.rng, world.scope
    exhibitors = list(db.session.scalars(select(Exhibitor).where(Exhibitor.edition_id == edition.id)
                                         .order_by(Exhibitor.id)))
    sold = [e for e in exhibitors if e.status in PARTICIPATING_STATUSES]
    held = [e for e in exhibitors if e.status not in PARTICIPATING_STATUSES + WITHDRAWN_STATUSES]
    total = max(20, 2 * len(sold))  # about half the stands sold
    types = list(db.session.scalars(select(BoothType).where(BoothType.edition_id == edition.id)
                                    .order_by(BoothType.price_per_m2)))
    stands: list[Stand] = []
    for name, count in (("1", math.ceil(total * 0.55)), ("2", total - math.ceil(total * 0.55))):
        rows = math.ceil(count / PER_ROW)
        blocks = math.ceil(rows / 2)
        width = 3 + sum(WIDTHS[:PER_ROW]) + 3
        hall = floorplan.save_hall(scope, edition, name=name, width_m=width, depth_m=3 + blocks * 9)
        letter = "ABCDEFGHJKLMNPQRSTUVWXYZ" * 4
        made = 0
        for row in range(rows):
            y = 3 + (row // 2) * 9 + (row % 2) * 3  # two rows back to back, then a 3 m aisle
            x = 3
            for n in range(PER_ROW):
                if made == count:
                    break
                w = WIDTHS[(n + row) % len(WIDTHS)]
                booth_type = None
                if types:
                    booth_type = types[-1] if w >= 9 else (types[0] if w == 3 else types[len(types) // 2])
                stands.append(floorplan.save_stand(scope, hall, floorplan.StandData(
                    f"{letter[row]}{n + 1:02d}", x, y, w, 3, None, booth_type.id if booth_type else None)))
                x += w
                made += 1
    free = stands[:]
    rng.shuffle(free)
    for exhibitor in sold + held[:max(2, total // 6)]:  # a few stands held by deals in the pipeline
        if not free:
            break
        floorplan.assign_stand(free.pop(), exhibitor, actor_id=world.user_ids.get("sales"))


def _sales_history(world, edition) -> None:
    """Each deal entered between ten and two months before the opening and moved along the pipeline on its way
    to today's stage — unless its stage moves are on record already (the pipeline demo's)."""
    rng = world.rng
    zone = ZoneInfo(edition.timezone or "UTC")
    opening = datetime.combine(edition.starts_on, time(9), zone).astimezone(timezone.utc)
    latest = min(opening, world.now)
    recorded = dict(db.session.execute(select(AuditEntry.object_id, func.min(AuditEntry.at)).where(
        AuditEntry.action == "exhibitor.status", AuditEntry.object_type == "exhibitors")
        .group_by(AuditEntry.object_id)).all())
    rows = []
    for exhibitor in db.session.scalars(select(Exhibitor).where(Exhibitor.edition_id == edition.id)):
        if exhibitor.id in recorded:  # moves on record: only entered earlier, in the stage its first move left
            first_move = min(recorded[exhibitor.id], opening)
            if exhibitor.created_at >= first_move - timedelta(days=1):
                exhibitor.created_at = first_move - timedelta(days=rng.randint(20, 200), minutes=rng.randint(0, 600))
            continue
        created = opening - timedelta(days=rng.randint(45, 300), minutes=rng.randint(0, 600))
        exhibitor.created_at = created
        chain = CHAINS.get(exhibitor.status, ("prospect",))
        steps = list(zip(chain, chain[1:]))
        span = (latest - created).total_seconds()
        moments = sorted(created + timedelta(seconds=rng.uniform(0.05, 1) * span) for _ in steps)
        if exhibitor.status == "exhibited" and moments:
            moments[-1] = opening  # exhibited on the opening day
        for (source, target), at in zip(steps, moments):
            rows.append({"organizer_id": edition.organizer_id, "user_id": world.user_ids.get("sales"), "at": at,
                         "action": "exhibitor.status", "object_type": "exhibitors", "object_id": exhibitor.id,
                         "details": {"from": source, "to": target}, "ip": None})
    db.session.flush()
    if rows:
        db.session.execute(insert(AuditEntry), rows)
