"""The demo's tickets: a realistic mix in both languages, some overdue, some resolved with ratings; the pages
render with them."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from expo import demo
from expo.core.models import Edition
from expo.extensions import db
from expo.support.models import Ticket

from ..conftest import Browser, login

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_demo_tickets_and_pages(ctx, app):
    accounts = demo.generate(visitors=200, exhibitors=8, editions=2)
    tickets = list(db.session.scalars(select(Ticket)))
    assert len(tickets) >= 40
    assert any(CJK.search(t.subject) for t in tickets) and any(not CJK.search(t.subject) for t in tickets)
    assert {t.source for t in tickets} == {"portal", "visitor", "staff"}
    assert any(t.rating for t in tickets) and any(t.escalated_at for t in tickets)
    assert any(t.resolved_at and t.resolved_at > t.due_at for t in tickets)  # some late
    assert all(t.created_at <= t.due_at for t in tickets)
    live = db.session.scalar(select(Edition).order_by(Edition.starts_on.desc()).limit(1))
    staff = Browser(app)
    login(staff.client, accounts["owner"], demo.DEMO_PASSWORD)
    base = f"/org/editions/{live.id}/tickets"
    for url in (base, f"{base}?overdue=1", f"{base}/report", f"{base}/settings"):
        assert staff.get(url).status_code == 200, url
    one = db.session.scalar(select(Ticket).where(Ticket.edition_id == live.id).limit(1))
    assert staff.get(f"{base}/{one.id}").status_code == 200
    admin = Browser(app)
    login(admin.client, accounts["exhibitor_admin"], demo.DEMO_PASSWORD)
    page = admin.get("/portal/support")
    assert page.status_code == 200
    assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.edition_id == live.id)) >= 20
