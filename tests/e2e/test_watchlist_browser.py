"""The churn watch list → win-back campaign path in a real browser, on the real value tiers (postshow.values) and
the real predictions (postshow.predictions) of a generated show history: the manager opens the watch list of the
edition just held, unticks one customer, starts the win-back campaign and lands on the draft whose recipients are
exactly the ticked customers' exhibitor admins. Screenshots: watchlist-*.png in the ``shots`` folder."""
from __future__ import annotations

import math
import random
import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from expo.campaigns import services
from expo.campaigns.models import Campaign, Recipient
from expo.core import services as core
from expo.core.models import Edition, User
from expo.exhibitors import services as exhibitors
from expo.core.scoping import Scope
from expo.exhibitors.models import Company, Exhibitor
from expo.extensions import db
from expo.leads.models import Lead
from expo.postshow import watchlist
from expo.visitors.models import Person, Registration

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def history(make, *, editions=5, companies=90, seed=11):
    """A lighting fair's yearly editions (closed) and the next one (live). Companies differ in the leads they
    draw and the money they spend; whether they come back depends on leads and habit, with noise — so some
    big spenders are unlikely to return. The last closed edition's exhibitors each have an admin account."""
    rng = random.Random(seed)
    organizer = make.organizer("Watch List Expo")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Lighting Fair 照明展")
    rows = [make.edition(organizer, show=show, starts_on=date(2021 + i, 4, 10), name=f"Lighting {2021 + i}",
                         status="closed") for i in range(editions)]
    live = make.edition(organizer, show=show, starts_on=date(2026, 4, 10), name="Lighting 2026", status="live")
    pool = [Company(organizer_id=organizer.id, name=f"Lumen {n:02d} 照明", country="CN") for n in range(companies)]
    db.session.add_all(pool)
    db.session.flush()
    pull = {c.id: rng.gauss(1.8, 0.9) for c in pool}
    spend = {c.id: rng.choice((18, 36, 54, 108, 216)) for c in pool}
    people = [Person(organizer_id=organizer.id, name=f"Buyer {k}", email=f"buyer{k}@watch.example.com")
              for k in range(80)]
    db.session.add_all(people)
    db.session.flush()
    present = set(rng.sample([c.id for c in pool], 60))
    for i, edition in enumerate(rows):
        regs = [Registration(organizer_id=organizer.id, edition_id=edition.id, person_id=p.id, category="buyer",
                             status="confirmed", access_key=secrets.token_urlsafe(32)) for p in rng.sample(people, 50)]
        db.session.add_all(regs)
        db.session.flush()
        leads_now = {}
        for company_id in sorted(present):
            area = spend[company_id]
            exhibitor = Exhibitor(organizer_id=organizer.id, edition_id=edition.id, company_id=company_id,
                                  status="exhibited", area_m2=Decimal(area), price=Decimal(area * 1000))
            db.session.add(exhibitor)
            db.session.flush()
            n = min(49, max(0, int(round(math.exp(pull[company_id] + rng.gauss(0, 0.3))))))
            leads_now[company_id] = n
            if n:
                db.session.execute(insert(Lead), [
                    {"organizer_id": organizer.id, "exhibitor_id": exhibitor.id, "registration_id": r.id,
                     "rating": "hot" if rng.random() < 0.2 else "warm", "notes": "", "scan_count": 1}
                    for r in rng.sample(regs, n)])
        if i == editions - 1:
            break
        median = sorted(leads_now.values())[len(leads_now) // 2] if leads_now else 1
        nxt = set()
        for company_id, n in leads_now.items():
            z = 1.6 * math.log((n + 1) / (median + 1)) + 0.6 + rng.gauss(0, 0.5)
            if rng.random() < 1 / (1 + math.exp(-z)):
                nxt.add(company_id)
        newcomers = [c.id for c in pool if c.id not in nxt]
        present = nxt | set(rng.sample(newcomers, min(len(newcomers), 10)))
    held = rows[-1]
    last = {}  # each company's latest participation gets an admin account
    for exhibitor in db.session.scalars(select(Exhibitor).where(Exhibitor.organizer_id == organizer.id)
                                        .order_by(Exhibitor.edition_id)):
        last[exhibitor.company_id] = exhibitor
    for exhibitor in last.values():
        core.create_user(organizer.id, f"admin{exhibitor.company_id}@lumen.example.com", "Admin", "x" * 12 + "Aa1!",
                         "exhibitor_admin", exhibitor_id=exhibitor.id)
    manager = make.user("manager", organizer, email="manager@watch.example.com")
    db.session.flush()
    return organizer, held, live, manager


@pytest.fixture
def world(make):
    organizer, held, live, manager = history(make)
    rows = watchlist.watch_list(Scope(organizer.id), held, "exhibitor")
    assert len(rows) >= 2, "the generated history must put at least two valuable companies on the watch list"
    db.session.commit()
    values = {"organizer": organizer.id, "held": held.id, "live": live.id, "manager": manager.email,
              "rows": [(r.subject_id, r.name) for r in rows]}
    db.session.remove()
    return values


def test_untick_one_and_start_the_winback_campaign(new_page, world, shots):
    page = new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, world["manager"])
    page.goto(f"/org/editions/{world['live']}/watchlist")
    assert page.locator("#watchlist .watch-row").count() == len(world["rows"])
    first_id, first_name = world["rows"][0]
    dropped_id, dropped_name = world["rows"][1]
    assert page.locator(f"#pick-{first_id}").is_checked() and page.locator(f"#pick-{dropped_id}").is_checked()
    assert page.locator(".suggested-action").first.inner_text().strip()
    page.screenshot(path=str(shots / "watchlist-desktop.png"), full_page=True)
    page.uncheck(f"#pick-{dropped_id}")
    with page.expect_navigation():
        page.click("#start-winback")
    assert f"/org/editions/{world['held']}/campaigns/" in page.url
    page.screenshot(path=str(shots / "watchlist-campaign.png"), full_page=True)
    text = page.inner_text("#preview")
    assert f"admin{first_id}@lumen.example.com" in text
    assert f"admin{dropped_id}@lumen.example.com" not in text
    campaign = db.session.scalar(select(Campaign).where(Campaign.organizer_id == world["organizer"],
                                                        Campaign.kind == "winback"))
    assert campaign.status == "draft" and campaign.target_edition_id == world["live"]
    chosen = {subject for subject, _name in world["rows"]} - {dropped_id}
    assert set(campaign.settings["mailed"]) == chosen and campaign.settings["rest"] == [dropped_id]
    mailed = set(db.session.scalars(select(User.email).join(Recipient, Recipient.user_id == User.id)
                                    .where(Recipient.campaign_id == campaign.id)))
    assert mailed == {f"admin{c}@lumen.example.com" for c in chosen}
    # Sent, and one of the mailed companies books the next edition: the report shows the effect.
    services.start(campaign)
    services.send_batch(campaign.id)
    exhibitors.add_exhibitor(Scope(world["organizer"]), db.session.get(Edition, world["live"]), first_name,
                             status="contracted")
    db.session.commit()
    page.goto(f"/org/editions/{world['held']}/campaigns/{campaign.id}/report")
    assert "+" in page.inner_text("#effect-difference") and "1" in page.inner_text("#effect-mailed")
    page.screenshot(path=str(shots / "watchlist-report.png"), full_page=True)
    db.session.remove()
    # On a phone: no sideways scroll.
    phone = new_page(viewport={"width": 375, "height": 740})
    sign_in(phone, world["manager"])
    phone.goto(f"/org/editions/{world['live']}/watchlist")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(shots / "watchlist-phone.png"), full_page=True)
