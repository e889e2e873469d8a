"""Rebooking offers (R7): made to last edition's exhibitors with their results, mailed, answered in the portal
(accept → an exhibitor of the next edition through exhibitors.services; decline with a reason), expired past
their deadline in the edition's zone (the clock is set by the test: ``now``), followed on the organizer's page."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import Activity, AuditEntry, MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import BoothType, Exhibitor
from expo.extensions import db
from expo.matchmaking import meetings
from expo.postshow import rebooking
from expo.postshow.models import RebookingOffer

from ..conftest import Browser, Tenant, field_errors, redirect_path

ZONE = "Asia/Shanghai"


@pytest.fixture
def world(make):
    """Last edition (on now: it opened yesterday) with three companies: Alpha already booked the next edition,
    Beta took leads (one hot) and a meeting, Gamma took nothing; a prospect Delta never took part. The next
    edition opens in a year."""
    organizer = make.organizer("Greater Bay Expo")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Furniture Fair")
    today = date.today()
    last = make.edition(organizer, show=show, starts_on=today - timedelta(days=1), name="Fair last", timezone=ZONE)
    this = make.edition(organizer, show=show, starts_on=today + timedelta(days=364), name="Fair next",
                        timezone=ZONE, status="draft")
    alpha = make.exhibitor(last, "Alpha Furniture")
    beta = make.exhibitor(last, "Beta Lighting 贝塔照明")
    gamma = make.exhibitor(last, "Gamma Textiles")
    exhibitor_services.add_exhibitor(scope, last, "Delta Prospect", status="prospect")
    exhibitor_services.add_exhibitor(scope, this, "Alpha Furniture", status="contracted")
    beta.area_m2 = Decimal("36")
    rep = make.user("sales", organizer)
    beta.sales_rep_id = rep.id
    shell = BoothType(organizer_id=organizer.id, edition_id=last.id, code="shell", name_en="Shell scheme",
                      price_per_m2=Decimal("1000"))
    shell_next = BoothType(organizer_id=organizer.id, edition_id=this.id, code="shell", name_en="Shell scheme",
                           price_per_m2=Decimal("1100"))
    db.session.add_all([shell, shell_next])
    db.session.flush()
    beta.booth_type_id = shell.id
    admin = make.user("exhibitor_admin", exhibitor=beta, email="admin@beta.example.com")
    booth = make.user("booth_staff", exhibitor=beta)
    gamma_admin = make.user("exhibitor_admin", exhibitor=gamma, email="admin@gamma.example.com")
    visitors = [make.registration(last) for _ in range(3)]
    for n, visitor in enumerate(visitors):
        lead = Tenant.capture(booth, visitor)
        lead.rating = "hot" if n == 0 else "warm"
    slot = meetings.add_slots(beta, last.ends_on, time(10), time(11), 30)[0]
    meeting = meetings.request_by_visitor(visitors[0], slot)
    meetings.accept(meeting, "exhibitor")
    manager = make.user("manager", organizer)
    db.session.commit()
    return {"scope": scope, "last": last, "this": this, "alpha": alpha, "beta": beta, "gamma": gamma,
            "admin": admin, "booth": booth, "gamma_admin": gamma_admin, "manager": manager, "rep": rep,
            "shell_next": shell_next, "organizer": organizer}


def terms(w, **kwargs) -> rebooking.OfferTerms:
    today = date.today()
    return rebooking.OfferTerms(**{"deadline_on": today + timedelta(days=30), "priority_from": today + timedelta(days=40),
                                   "priority_until": today + timedelta(days=50), "accept_stage": "negotiating",
                                   "message": "Welcome back!", **kwargs})


def offers_of(w) -> dict[str, RebookingOffer]:
    return {o.company.name: o for o in db.session.scalars(select(RebookingOffer))}


# --- making offers ------------------------------------------------------------------------------------

def test_offers_go_to_last_editions_exhibitors_who_have_not_booked_again_with_their_results(world):
    w = world
    made = rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w), actor_id=w["manager"].id)
    db.session.commit()
    offers = offers_of(w)
    assert len(made) == 2 and set(offers) == {"Beta Lighting 贝塔照明", "Gamma Textiles"}  # not Alpha, not Delta
    beta = offers["Beta Lighting 贝塔照明"]
    assert (beta.leads, beta.hot_leads, beta.meetings, beta.satisfaction) == (3, 1, 1, None)
    assert beta.results["booth"] == w["beta"].booth and beta.results["booth_type"] == "shell"
    assert beta.status == "open" and beta.mailed_to == 1 and beta.sent_at is not None
    assert (offers["Gamma Textiles"].leads, offers["Gamma Textiles"].meetings) == (0, 0)
    mails = {m.recipient: m for m in db.session.scalars(select(MailMessage).where(MailMessage.subject.like("Book again%")))}
    assert set(mails) == {"admin@beta.example.com", "admin@gamma.example.com"}  # admins only, not booth staff
    body = mails["admin@beta.example.com"].body_text
    assert "Fair next" in mails["admin@beta.example.com"].subject
    assert "Leads: 3" in body and "Hot leads: 1" in body and "Meetings: 1" in body and "Welcome back!" in body
    assert f"/portal/rebooking/{beta.id}" in body
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "rebooking.offered",
                                                         AuditEntry.object_id == beta.id))
    kinds = set(db.session.scalars(select(Activity.kind).where(Activity.subject_id == w["beta"].company_id)))
    assert "rebooking.offered" in kinds


def test_making_offers_twice_makes_no_second_offer(world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    assert rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w)) == []
    assert db.session.scalar(select(db.func.count(RebookingOffer.id))) == 2


def test_offers_to_chosen_exhibitors_only(world):
    w = world
    made = rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w), exhibitor_ids=[w["gamma"].id])
    assert [o.company.name for o in made] == ["Gamma Textiles"]


@pytest.mark.parametrize("change, field", [
    ({"deadline_on": date.today() - timedelta(days=1)}, "deadline_on"),
    ({"deadline_on": date.today() + timedelta(days=900)}, "deadline_on"),
    ({"priority_from": date.today() + timedelta(days=50), "priority_until": date.today() + timedelta(days=40)},
     "priority_until"),
    ({"priority_until": None}, "priority_until"),
    ({"accept_stage": "paid"}, "accept_stage"),
    ({"message": "x" * 2001}, "message"),
])
def test_bad_terms_are_refused_with_the_field(world, change, field):
    w = world
    with pytest.raises(ServiceError) as refused:
        rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w, **change))
    assert refused.value.field == field
    assert db.session.scalar(select(db.func.count(RebookingOffer.id))) == 0


def test_offers_only_from_an_earlier_edition_of_the_same_show(world, make):
    w = world
    with pytest.raises(ServiceError):
        rebooking.make_offers(w["scope"], w["last"], w["this"], terms(w))  # backwards
    other = make.edition(w["organizer"], starts_on=date.today() - timedelta(days=400), timezone=ZONE)
    with pytest.raises(ServiceError):
        rebooking.make_offers(w["scope"], w["this"], other, terms(w))  # another show
    foreign = make.organizer()
    with pytest.raises(ServiceError):
        rebooking.make_offers(Scope(foreign.id), w["this"], w["last"], terms(w))


# --- answers ------------------------------------------------------------------------------------------

def test_accepting_makes_the_company_an_exhibitor_of_the_next_edition(world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    offer = offers_of(w)["Beta Lighting 贝塔照明"]
    row = rebooking.accept(offer, wanted_area_m2=Decimal("54"), booth_wish="  a   corner ", actor_id=w["admin"].id)
    db.session.commit()
    assert (row.edition_id, row.company_id, row.status) == (w["this"].id, w["beta"].company_id, "negotiating")
    assert row.area_m2 == Decimal("54") and row.booth_type_id == w["shell_next"].id
    assert row.sales_rep_id == w["rep"].id  # the same rep keeps the account
    assert (offer.status, offer.new_exhibitor_id, offer.booth_wish) == ("accepted", row.id, "a corner")
    assert offer.answered_by_id == w["admin"].id and offer.answered_at is not None
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "rebookingoffer.status"))
    kinds = set(db.session.scalars(select(Activity.kind).where(Activity.subject_id == w["beta"].company_id)))
    assert {"rebooking.accepted", "exhibitor.created"} <= kinds
    with pytest.raises(ServiceError):  # answered once
        rebooking.decline(offer, "budget")


def test_accepting_without_an_area_keeps_last_editions(world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w, accept_stage="contracted"))
    row = rebooking.accept(offers_of(w)["Beta Lighting 贝塔照明"])
    assert (row.status, row.area_m2) == ("contracted", Decimal("36"))


@pytest.mark.parametrize("stage_before, reason, accept_stage, stage_after", [
    ("prospect", "", "contracted", "contracted"),
    ("negotiating", "", "negotiating", "negotiating"),
    ("lost", "Price", "negotiating", "negotiating"),  # revived: prospect first, then on
    ("paid", "", "negotiating", "paid"),  # already further: left as it is
])
def test_accepting_moves_the_companys_row_in_the_pipeline(world, stage_before, reason, accept_stage, stage_after):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w, accept_stage=accept_stage))
    existing = exhibitor_services.add_exhibitor(w["scope"], w["this"], "Gamma Textiles", status="prospect")
    path = {"prospect": [], "negotiating": ["negotiating"], "lost": ["lost"], "paid": ["contracted", "paid"]}
    for step in path[stage_before]:
        exhibitor_services.set_status(existing, step, reason=reason)
    row = rebooking.accept(offers_of(w)["Gamma Textiles"])
    assert row.id == existing.id and row.status == stage_after
    assert db.session.scalar(select(db.func.count(Exhibitor.id)).where(Exhibitor.edition_id == w["this"].id,
                                                                       Exhibitor.company_id == existing.company_id)) == 1


def test_declining_needs_a_reason(world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    offer = offers_of(w)["Gamma Textiles"]
    with pytest.raises(ServiceError) as refused:
        rebooking.decline(offer, "")
    assert refused.value.field == "decline_reason"
    rebooking.decline(offer, "other_show", note=" Milan\x0bthis year ", actor_id=w["gamma_admin"].id)
    assert (offer.status, offer.decline_reason, offer.decline_note) == ("declined", "other_show", "Milan this year")
    with pytest.raises(ServiceError):
        rebooking.accept(offer)


def test_an_area_beyond_reason_is_refused(world):
    w = world
    for text in ("abc", "0", "-5", "1e309", "NaN", "Infinity", "100001"):
        with pytest.raises(ServiceError) as refused:
            rebooking.parse_area(text)
        assert refused.value.field == "wanted_area_m2", text
    assert rebooking.parse_area(" 18,5 ") == Decimal("18.50") and rebooking.parse_area("") is None


# --- deadlines ------------------------------------------------------------------------------------------

def test_offers_expire_after_their_deadline_day_in_the_editions_zone(world):
    w = world
    deadline = date.today() + timedelta(days=10)
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w, deadline_on=deadline, priority_from=None,
                                                                     priority_until=None))
    # 23:59 on the deadline day in Shenzhen (UTC+8) is still in time; one minute later it is not.
    last_minute = datetime.combine(deadline, time(15, 59), timezone.utc)
    assert rebooking.expire_due(last_minute) == 0
    too_late = last_minute + timedelta(minutes=1)
    offer = offers_of(w)["Beta Lighting 贝塔照明"]
    assert rebooking.past_deadline(offer, too_late) and not rebooking.past_deadline(offer, last_minute)
    assert rebooking.expire_due(too_late) == 2
    assert rebooking.expire_due(too_late) == 0  # idempotent
    assert {o.status for o in offers_of(w).values()} == {"expired"}


def test_an_answer_after_the_deadline_is_refused_before_the_task_ran(world):
    w = world
    deadline = date.today() + timedelta(days=10)
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w, deadline_on=deadline, priority_from=None,
                                                                     priority_until=None))
    offer = offers_of(w)["Beta Lighting 贝塔照明"]
    with pytest.raises(ServiceError):
        rebooking.accept(offer, now=datetime.combine(deadline + timedelta(days=1), time(8), timezone.utc))


def test_an_expired_offer_can_be_opened_again_and_is_mailed_again(world):
    w = world
    deadline = date.today() + timedelta(days=10)
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w, deadline_on=deadline, priority_from=None,
                                                                     priority_until=None))
    rebooking.expire_due(datetime.combine(deadline + timedelta(days=2), time(0), timezone.utc))
    offer = offers_of(w)["Beta Lighting 贝塔照明"]
    before = db.session.scalar(select(db.func.count(MailMessage.id)).where(MailMessage.subject.like("Your offer%")))
    with pytest.raises(ServiceError):
        rebooking.reopen(offer, date.today() - timedelta(days=1))
    assert rebooking.reopen(offer, date.today() + timedelta(days=20)) == 1
    assert offer.status == "open" and offer.deadline_on == date.today() + timedelta(days=20)
    assert db.session.scalar(select(db.func.count(MailMessage.id)).where(MailMessage.subject.like("Your offer%"))) == before + 1
    rebooking.withdraw(offer)
    assert offer.status == "withdrawn"
    with pytest.raises(ServiceError):
        rebooking.reopen(offer, date.today() + timedelta(days=20))


def test_the_overview_counts_answers_and_the_rebooking_rate(world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    offers = offers_of(w)
    rebooking.accept(offers["Beta Lighting 贝塔照明"])
    view = rebooking.overview(w["scope"], w["this"])
    assert (view.made, view.accepted, view.counts["open"], view.rebooking_rate) == (2, 1, 1, 0.5)
    assert [o.company.name for o in view.waiting] == ["Gamma Textiles"]
    rebooking.decline(offers["Gamma Textiles"], "budget")
    view = rebooking.overview(w["scope"], w["this"], status="declined")
    assert view.reasons == [("budget", 1)] and view.answer_rate == 1.0
    assert [o.company.name for o in view.offers] == ["Gamma Textiles"]


# --- pages -----------------------------------------------------------------------------------------------

def test_the_manager_makes_offers_on_the_page_and_sales_may_only_read(app, world):
    w = world
    url = f"/org/editions/{w['this'].id}/rebooking"
    manager = Browser(app, w["manager"].email)
    page = manager.get(url).get_data(as_text=True)
    assert "2 companies of Fair last can get an offer now." in page
    bad = manager.post(url, {"from_edition": str(w["last"].id), "deadline_on": (date.today() - timedelta(days=3)).isoformat(),
                             "accept_stage": "negotiating"})
    assert bad.status_code == 200
    assert field_errors(bad.get_data(as_text=True), "deadline_on") == ["The deadline cannot be in the past."]
    response = manager.post(url, {"from_edition": str(w["last"].id), "deadline_on": (date.today() + timedelta(days=20)).isoformat(),
                                  "accept_stage": "contracted", "message": "See you again"})
    assert redirect_path(response) == url
    page = manager.get(url).get_data(as_text=True)
    assert "Beta Lighting 贝塔照明" in page and "Gamma Textiles" in page
    sales = Browser(app, w["rep"].email)
    assert sales.get(url).status_code == 200
    assert sales.post(url, {"from_edition": str(w["last"].id)}).status_code == 403
    offer = offers_of(w)["Gamma Textiles"]
    detail = sales.get(f"{url}/{offer.id}")
    assert detail.status_code == 200 and "Gamma Textiles" in detail.get_data(as_text=True)
    assert sales.get(f"{url}/99999999999").status_code == 404
    hostile = manager.post(url, {"from_edition": "1\x00", "deadline_on": "2026-13-45", "message": "\x00"})
    assert hostile.status_code == 200


def test_the_exhibitor_admin_reads_the_results_and_accepts_in_the_portal(app, world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    db.session.commit()
    offer = offers_of(w)["Beta Lighting 贝塔照明"]
    admin = Browser(app, w["admin"].email)
    assert redirect_path(admin.get("/portal/rebooking")) == f"/portal/rebooking/{offer.id}"
    page = admin.get(f"/portal/rebooking/{offer.id}").get_data(as_text=True)
    assert "Book again for Fair next" in page and "Welcome back!" in page and 'value="36.00"' in page
    bad = admin.post(f"/portal/rebooking/{offer.id}", {"answer": "accept", "accept-wanted_area_m2": "1e309",
                                                       "accept-booth_wish": "corner"})
    assert bad.status_code == 200
    assert field_errors(bad.get_data(as_text=True), "accept-wanted_area_m2")
    nul = admin.post(f"/portal/rebooking/{offer.id}", {"answer": "accept", "accept-booth_wish": "a\x00b"})
    assert nul.status_code == 200 and field_errors(nul.get_data(as_text=True), "accept-booth_wish")
    done = admin.post(f"/portal/rebooking/{offer.id}", {"answer": "accept", "accept-wanted_area_m2": "54",
                                                        "accept-booth_wish": "corner"})
    assert redirect_path(done) == f"/portal/rebooking/{offer.id}"
    db.session.expire_all()
    assert offers_of(w)["Beta Lighting 贝塔照明"].status == "accepted"
    assert "You accepted on" in admin.get(f"/portal/rebooking/{offer.id}").get_data(as_text=True)
    # booth staff cannot answer; another company's offer does not exist for this admin
    assert Browser(app, w["booth"].email).get(f"/portal/rebooking/{offer.id}").status_code == 403
    gamma_offer = offers_of(w)["Gamma Textiles"]
    assert admin.get(f"/portal/rebooking/{gamma_offer.id}").status_code == 404


def test_the_exhibitor_admin_declines_with_a_reason(app, world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    db.session.commit()
    offer = offers_of(w)["Gamma Textiles"]
    admin = Browser(app, w["gamma_admin"].email)
    missing = admin.post(f"/portal/rebooking/{offer.id}", {"answer": "decline", "decline-decline_reason": ""})
    assert missing.status_code == 200
    assert field_errors(missing.get_data(as_text=True), "decline-decline_reason")
    forged = admin.post(f"/portal/rebooking/{offer.id}", {"answer": "decline", "decline-decline_reason": "bogus"})
    assert forged.status_code == 200
    done = admin.post(f"/portal/rebooking/{offer.id}", {"answer": "decline", "decline-decline_reason": "dates",
                                                        "decline-decline_note": "Clashes with Canton Fair"})
    assert redirect_path(done) == f"/portal/rebooking/{offer.id}"
    db.session.expire_all()
    offer = offers_of(w)["Gamma Textiles"]
    assert (offer.status, offer.decline_reason, offer.decline_note) == ("declined", "dates", "Clashes with Canton Fair")
    manager = Browser(app, w["manager"].email)
    page = manager.get(f"/org/editions/{w['this'].id}/rebooking?status=declined").get_data(as_text=True)
    assert "The dates do not suit us" in page


def test_a_withdrawn_offer_leaves_the_portal(app, world):
    w = world
    rebooking.make_offers(w["scope"], w["this"], w["last"], terms(w))
    db.session.commit()
    offer = offers_of(w)["Gamma Textiles"]
    manager = Browser(app, w["manager"].email)
    url = f"/org/editions/{w['this'].id}/rebooking/{offer.id}"
    assert redirect_path(manager.post(url, {"action": "withdraw"})) == url
    assert Browser(app, w["gamma_admin"].email).get(f"/portal/rebooking/{offer.id}").status_code == 404
    again = manager.post(url, {"action": "withdraw"})  # a second time: a message, not an error page
    assert redirect_path(again) == url
