"""Rep performance (R14) on fixed data: revenue and m² booked, new exhibitors, retention of their accounts,
overdue follow-ups, per rep and per period of signing."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from expo.core import services as core
from expo.core.models import Organizer
from expo.core.scoping import Scope
from expo.exhibitors import followups, performance, services
from expo.extensions import db

from ..conftest import Browser


def _booking(scope, edition, name, rep, status, area=None, price=None, created=None):
    exhibitor = services.add_exhibitor(scope, edition, name, status=status, area_m2=area, price=price)
    exhibitor.sales_rep_id = rep.id if rep is not None else None
    if created is not None:
        exhibitor.created_at = created
    db.session.flush()
    return exhibitor


def _world(make):
    organizer = make.organizer()
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Furniture Fair")
    last = core.create_edition(scope, show, "Fair 2025", date(2025, 11, 1), date(2025, 11, 4), status="closed",
                               timezone="Asia/Shanghai")
    this = core.create_edition(scope, show, "Fair 2026", date(2026, 11, 1), date(2026, 11, 4), status="live",
                               timezone="Asia/Shanghai")
    ana = make.user("sales", organizer, email="ana@example.com")
    ben = make.user("sales", organizer, email="ben@example.com")
    return organizer, scope, last, this, ana, ben


def test_revenue_area_new_and_retention_per_rep(make):
    organizer, scope, last, this, ana, ben = _world(make)
    # Last edition: Ana had A, B, C taking part (and D lost); Ben had E.
    for name, rep, status in (("A", ana, "exhibited"), ("B", ana, "exhibited"), ("C", ana, "exhibited"),
                              ("D", ana, "lost"), ("E", ben, "exhibited")):
        _booking(scope, last, name, rep, status, area=Decimal(9), price=Decimal(1000))
    # This edition: A and B booked again (A with Ben now), C still negotiating; F and G are new.
    _booking(scope, this, "A", ben, "contracted", area=Decimal("18"), price=Decimal("20000"))
    _booking(scope, this, "B", ana, "paid", area=Decimal("36"), price=Decimal("36000.50"))
    _booking(scope, this, "C", ana, "negotiating", area=Decimal("9"), price=Decimal("9000"))
    _booking(scope, this, "F", ana, "contracted", area=Decimal("12"), price=Decimal("12000"))
    _booking(scope, this, "G", None, "contracted", area=Decimal("9"), price=Decimal("5000"))
    _booking(scope, this, "D", ben, "prospect")
    result = performance.rep_performance(scope, this)
    rows = {r.rep_id: r for r in result.rows}
    a, b, nobody = rows[ana.id], rows[ben.id], rows[performance.NOBODY]
    assert (a.accounts, a.in_pipeline, a.won, a.revenue, a.area_m2) == (3, 1, 2, Decimal("48000.50"), Decimal("48"))
    assert (b.accounts, b.in_pipeline, b.won, b.revenue, b.area_m2) == (2, 1, 1, Decimal("20000"), Decimal("18"))
    assert (nobody.won, nobody.revenue) == (1, Decimal("5000"))
    # New (first edition taking part): F (Ana) and G (nobody); D is only a prospect again, not counted.
    assert (a.new_exhibitors, b.new_exhibitors, nobody.new_exhibitors) == (1, 0, 1)
    # Retention by last edition's rep: Ana had A, B, C → A and B booked again (A with Ben): 2 of 3.
    assert (a.last_edition_accounts, a.rebooked) == (3, 2) and abs(a.retention - 2 / 3) < 1e-9
    assert (b.last_edition_accounts, b.rebooked, b.retention) == (1, 0, 0.0)
    assert result.total.revenue == Decimal("73000.50") and result.total.won == 4
    assert result.rows[0].rep_id == ana.id and result.rows[-1].rep_id == performance.NOBODY
    chart = result.chart("Revenue")
    assert chart["categories"][:2] == [ana.name, ben.name] and chart["series"][0]["data"][:2] == [48000.5, 20000.0]


def test_the_period_counts_bookings_by_their_signing_day(make):
    organizer, scope, _last, this, ana, _ben = _world(make)
    zone = "Asia/Shanghai"
    early = _booking(scope, this, "Early", ana, "contracted", price=Decimal(100),
                     created=datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc))
    moved = _booking(scope, this, "Moved", ana, "negotiating", price=Decimal(1000),
                     created=datetime(2026, 1, 5, tzinfo=timezone.utc))
    services.set_status(moved, "contracted")  # signed now (the audit entry's time)
    signed = performance.signed_moments(scope, [early, moved])
    assert signed[early.id] == early.created_at
    assert signed[moved.id] > early.created_at
    march = performance.rep_performance(scope, this, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert {r.rep_id: r.revenue for r in march.rows}[ana.id] == Decimal(100)
    signed_day = signed[moved.id].astimezone(ZoneInfo(zone)).date()
    today = performance.rep_performance(scope, this, start=signed_day, end=signed_day)
    assert {r.rep_id: r.revenue for r in today.rows}[ana.id] == Decimal(1000)


def test_overdue_follow_ups_per_rep(make):
    organizer, scope, _last, this, ana, ben = _world(make)
    exhibitor = _booking(scope, this, "A", ana, "prospect")
    now = datetime(2026, 10, 1, 4, tzinfo=timezone.utc)
    for days in (-3, -1, 2):
        followups.add_follow_up(scope, exhibitor, f"Call {days}", date(2026, 10, 1) + timedelta(days=days),
                                at=time(9, 0), rep_id=ana.id)
    followups.add_follow_up(scope, exhibitor, "Ben's", date(2026, 9, 1), rep_id=ben.id)
    result = performance.rep_performance(scope, this, now=now)
    rows = {r.rep_id: r for r in result.rows}
    assert (rows[ana.id].overdue, rows[ana.id].open_follow_ups) == (2, 3)
    assert (rows[ben.id].overdue, rows[ben.id].open_follow_ups) == (1, 1)


def test_the_performance_page(app, make):
    t = make.tenant("A", leads=False)
    t.exhibitor.sales_rep_id = t.users["sales"].id
    db.session.commit()
    base = f"/org/editions/{t.edition.id}/sales/performance"
    page = Browser(app, t.users["manager"]).get(base)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-chart="rep-revenue-data"' in body and "echarts" in body
    assert t.users["sales"].name in body
    for query in ("?from=2026-02-30", "?from=99999-01-01&to=x", "?from=2026-05-01&to=2026-01-01", "?to=%EF%BF%BF"):
        assert Browser(app, t.users["analyst"]).get(base + query).status_code == 200
    assert Browser(app, t.users["sales"]).get(base).status_code == 403
    assert db.session.get(Organizer, t.organizer.id)
