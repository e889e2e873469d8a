"""The demo show: a living exhibition anyone can sign in to, and API tokens made on the command line."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from expo import demo
from expo.cli import main
from expo.core.demo import CLOSING, OPENING
from expo.core.models import Category, Edition, Organizer, Show, User
from expo.core.scoping import Scope
from expo.exhibitors.models import Company, Exhibitor
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite.models import Scan
from expo.postshow.services import edition_report
from expo.visitors.models import Person, Registration
from expo.visitors.services import badge_code

from .conftest import login, new_scan_id

ROLES = ("owner", "manager", "sales", "onsite", "analyst", "exhibitor_admin", "booth_staff")
CJK = re.compile(r"[\u4e00-\u9fff]")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def accounts(ctx):
    accounts = demo.generate(visitors=300, exhibitors=12, editions=2)
    db.session.remove()
    return accounts


def count(stmt) -> int:
    return db.session.scalar(stmt)


def test_demo_world(accounts):
    assert set(accounts) == set(ROLES)
    assert not demo.is_empty()
    assert count(select(func.count(Organizer.id))) == 1
    assert count(select(func.count(Show.id))) == 1
    editions = list(db.session.scalars(select(Edition).order_by(Edition.starts_on)))
    assert [e.status for e in editions] == ["closed", "live"]
    last, live = editions
    assert live.starts_on == datetime.now(SHANGHAI).date() - timedelta(days=1)
    assert last.starts_on.year == live.starts_on.year - 1

    # A category tree: top-level categories with children.
    parents = count(select(func.count(Category.id)).where(Category.parent_id.is_(None)))
    children = count(select(func.count(Category.id)).where(Category.parent_id.is_not(None)))
    assert parents >= 2 and children > parents

    # Exhibitors: Chinese and English names; some of last year's did not rebook.
    names = list(db.session.scalars(select(Company.name)))
    assert any(CJK.search(n) for n in names)
    assert any(n.isascii() for n in names)
    last_companies = set(db.session.scalars(select(Exhibitor.company_id).where(Exhibitor.edition_id == last.id)))
    live_booked = set(db.session.scalars(select(Exhibitor.company_id).where(
        Exhibitor.edition_id == live.id, Exhibitor.status.in_(("contracted", "paid", "exhibited")))))
    assert len(last_companies) == 12 and len(live_booked) == 12
    assert last_companies - live_booked, "every exhibitor rebooked: no churn to look at"
    assert last_companies & live_booked, "nobody rebooked"

    # Visitors: all five public categories, returning people, check-ins and leads at the live show.
    live_categories = set(db.session.scalars(select(Registration.category).distinct()
                                             .where(Registration.edition_id == live.id)))
    assert {"buyer", "trade_visitor", "public", "media", "vip"} <= live_categories
    # 300 visitors and one colleague who gave the company switchboard's number (a possible duplicate)
    assert count(select(func.count(Registration.id)).where(Registration.edition_id == live.id,
                                                           Registration.category != "exhibitor_staff")) == 301
    # and the booth staff's badges (onsite.staff_badges), within each stand's quota
    assert count(select(func.count(Registration.id)).where(Registration.edition_id == live.id,
                                                           Registration.category == "exhibitor_staff")) > 0
    from expo.visitors.services import possible_duplicates

    pairs = possible_duplicates(Scope(live.organizer_id), per_page=100).items
    assert len(pairs) >= 4  # three people under a second email, one switchboard colleague
    both = set(db.session.scalars(select(Registration.person_id).where(Registration.edition_id == last.id))) & set(
        db.session.scalars(select(Registration.person_id).where(Registration.edition_id == live.id)))
    assert len(both) >= 30
    checkins = count(select(func.count(Scan.id)).where(Scan.edition_id == live.id, Scan.kind == "checkin",
                                                       Scan.result == "ok"))
    leads = count(select(func.count(Lead.id)).join(Exhibitor).where(Exhibitor.edition_id == live.id))
    assert checkins > 0 and leads > 0

    # The report over it agrees with the above.
    report = edition_report(Scope(live.organizer_id), live)
    assert report.registrations_total > 250
    assert report.returning_visitors > 0 and report.previous_visitors > 0
    assert 0 < report.rebooked_exhibitors < report.previous_exhibitors == 12
    assert report.churned_exhibitors
    assert int(report.leads_per_exhibitor["leads"].sum()) == leads


def test_demo_badges_verify(accounts):
    """The demo's registrations carry badges that the live edition's key accepts."""
    from expo.onsite.services import verify_code

    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == live.id,
                                                                Registration.status == "confirmed").limit(1))
    assert verify_code(live, badge_code(registration)) == (registration, None)


@pytest.mark.parametrize("role", ROLES)
def test_every_demo_account_signs_in(app, accounts, role):
    client = app.test_client()
    login(client, accounts[role], demo.DEMO_PASSWORD)
    home = client.get("/")
    assert home.status_code == 302
    assert "/login" not in home.headers["Location"]


def test_demo_sign_in_help(accounts):
    text = demo.sign_in_help("http://127.0.0.1:5000", None)
    for role in ROLES:
        assert accounts[role] in text
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    assert f"http://127.0.0.1:5000/e/{live.slug}" in text


def test_token_create_command_makes_a_working_api_token(app, accounts):
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["token", "create", accounts["booth_staff"], "--name", "scanner"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token and "\n" not in token

    booth = db.session.scalar(select(User).where(User.email == accounts["booth_staff"]))
    registration = db.session.scalar(
        select(Registration).where(Registration.edition_id == booth.exhibitor.edition_id,
                                   Registration.status == "confirmed").order_by(Registration.id.desc()).limit(1))
    body = {"code": badge_code(registration), "kind": "lead", "client_scan_id": new_scan_id()}
    client = app.test_client()

    assert client.post("/api/v1/scans", json=body).status_code == 401
    assert client.post("/api/v1/scans", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/scans", json={"kind": "lead"}, headers=auth).status_code == 400
    answer = client.post("/api/v1/scans", json=body, headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["result"] in ("ok", "duplicate")
    assert answer.json["kind"] == "lead"


def test_token_create_for_unknown_user(app, ctx):
    result = app.test_cli_runner().invoke(main, ["token", "create", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No user with email nobody@example.com" in result.output


def test_demo_generates_on_a_leap_day(ctx):
    """The live edition opened on 29 February: last year's edition has no 29 February."""
    demo.generate(visitors=20, exhibitors=4, editions=2, now=datetime(2028, 3, 1, 12, tzinfo=SHANGHAI))
    starts = list(db.session.scalars(select(Edition.starts_on).order_by(Edition.starts_on)))
    assert starts[-1] == date(2028, 2, 29)
    assert starts[0].year == 2027


# --- nothing in the future ---------------------------------------------------------------------------

TOLERANCE = timedelta(seconds=1)
NOWS = [
    datetime(2026, 5, 20, 4, 0, tzinfo=SHANGHAI),  # before the halls open on the second show day
    datetime(2026, 5, 20, 9, 20, tzinfo=SHANGHAI),  # twenty minutes after opening
    datetime(2026, 5, 20, 11, 30, tzinfo=SHANGHAI),  # mid-morning
    datetime(2026, 5, 20, 22, 0, tzinfo=SHANGHAI),  # after closing
    datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI),  # the last minute of the year (15:59 UTC)
    datetime(2024, 3, 1, 1, 0, tzinfo=timezone.utc),  # 09:00 in Shanghai, the live edition opened on 29 Feb
]


def latest(*columns) -> datetime:
    return max(db.session.scalar(select(func.max(column))) for column in columns)


@pytest.mark.parametrize("now", NOWS, ids=lambda now: now.isoformat())
def test_demo_lies_not_in_the_future(ctx, now):
    """Scans, check-ins, leads and registrations all lie before ``now``; registrations before their scans;
    the live edition's past show day is full and today's scans run up to now."""
    demo.generate(visitors=120, exhibitors=6, editions=3, now=now)
    db.session.remove()
    assert latest(Scan.scanned_at, Scan.received_at, Lead.first_scanned_at, Lead.last_scanned_at,
                  Registration.created_at, Registration.consent_at, Person.created_at) <= now + TOLERANCE

    editions = list(db.session.scalars(select(Edition).order_by(Edition.starts_on)))
    *closed, live = editions
    today = now.astimezone(SHANGHAI).date()
    assert live.status == "live" and live.starts_on <= today <= live.ends_on
    for edition in closed:
        assert edition.status == "closed" and edition.ends_on < today

    # Every scan comes after its registration; every lead's booth scan after the visitor's check-in that day.
    late = db.session.execute(select(func.count(Scan.id)).join(Registration, Registration.id == Scan.registration_id)
                              .where(Scan.scanned_at < Registration.created_at)).scalar()
    assert late == 0
    checkins = {}
    for reg_id, at in db.session.execute(select(Scan.registration_id, Scan.scanned_at).where(Scan.kind == "checkin")):
        checkins.setdefault((reg_id, at.astimezone(SHANGHAI).date()), []).append(at)
    for reg_id, at in db.session.execute(select(Lead.registration_id, Lead.first_scanned_at)):
        entered = checkins.get((reg_id, at.astimezone(SHANGHAI).date()))
        assert entered and min(entered) <= at, (reg_id, at)

    # Past show days are whole days; today runs up to now (or has nothing yet before the halls open).
    live_days = [at.astimezone(SHANGHAI) for at in db.session.scalars(
        select(Scan.scanned_at).where(Scan.edition_id == live.id))]
    yesterday = [at for at in live_days if at.date() < today]
    assert yesterday and max(at.time() for at in yesterday) >= datetime(2000, 1, 1, 15).time()
    todays = [at for at in live_days if at.date() == today]
    opening = datetime.combine(today, OPENING, SHANGHAI)
    if now < opening:
        assert not todays
    elif now >= opening + timedelta(hours=2):
        assert todays and max(todays) >= min(now, datetime.combine(today, CLOSING, SHANGHAI)) - timedelta(hours=1)
    # Older editions have their whole show: scans on each of their four days.
    for edition in closed:
        days = {at.astimezone(SHANGHAI).date() for at in db.session.scalars(
            select(Scan.scanned_at).where(Scan.edition_id == edition.id))}
        assert len(days) == 4
