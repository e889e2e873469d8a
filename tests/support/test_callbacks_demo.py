"""The demo's call-backs: last year's lists called through, the live list in the callers' queues, and the pages
showing them."""
from __future__ import annotations

from sqlalchemy import func, select

from expo import demo
from expo.core.models import Activity, Edition, User
from expo.core.scoping import Scope
from expo.extensions import db
from expo.support import callback_report, callbacks
from expo.support.callback_models import Call, CallList

from ..conftest import Browser


def test_demo_call_lists(app, ctx):
    accounts = demo.generate(visitors=300, exhibitors=12, editions=2)
    db.session.commit()
    lists = db.session.scalars(select(CallList).order_by(CallList.id)).all()
    assert [c.audience for c in lists] == ["exhibitor", "visitor", "visitor"]
    key = lists[0]
    report = callback_report.report(key, "zh_CN")
    assert report.figures["total"] >= 5 and report.figures["reached"] >= 1 and report.figures["calls"] >= 5
    assert any(s.mean is not None for s in report.questions)
    buyers = callback_report.report(lists[1], "en")
    assert buyers.figures["total"] >= 5 and buyers.figures["reached"] >= 1, buyers.figures
    assert any(s.texts for s in buyers.questions)
    assert db.session.scalar(select(func.count(Activity.id)).where(Activity.kind.like("callback.%"))) \
        == db.session.scalar(select(func.count(Call.id)))
    now = db.session.scalar(select(func.max(Call.called_at)))
    live = db.session.scalar(select(Edition).order_by(Edition.starts_on.desc()).limit(1))
    sales = db.session.scalar(select(User).where(User.email == accounts["sales"]))
    due, _later = callbacks.queue(Scope(live.organizer_id), live, sales.id)
    assert due, "the sales account has customers to call in the live edition"
    assert now is not None
    browser = Browser(app)
    from ..conftest import login
    from expo.core.demo import DEMO_PASSWORD
    login(browser.client, accounts["manager"], DEMO_PASSWORD)
    for url in (f"/org/editions/{key.edition_id}/callbacks", f"/org/editions/{key.edition_id}/callbacks/{key.id}",
                f"/org/editions/{key.edition_id}/callbacks/{key.id}/report", f"/org/editions/{live.id}/callbacks/queue"):
        assert browser.get(url).status_code == 200, url
