"""Win-back campaigns from the churn watch list (issue 11) on fixed data: the ranking and the suggested actions,
the selection becoming exactly the chosen recipients (never another organizer's), the holdout, sending, and
the effect measured at the next edition. The values and predictions are fixed objects built here (the other
parts' internals are not used): ``watchlist.rank`` takes them as plain dicts."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from expo.campaigns import services, winback
from expo.campaigns.models import Campaign, Recipient
from expo.core import services as core
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import accounts
from expo.exhibitors.models import CompanyContact
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.postshow import watchlist

from ..conftest import Browser, Tenant, redirect_path


def value(tier, net, stage="decline"):
    return SimpleNamespace(tier=tier, tier_label=tier.upper(), stage=stage, stage_label=stage.title(),
                           stage_rule="", rfm=(3, 3, 3), net_value=net)


def score(subject_id, p, *reasons):
    return SimpleNamespace(subject_id=subject_id, probability=p, reasons=list(reasons), features={})


@pytest.fixture
def fair(make):
    """Last edition (closed) of a fair and the next one (live). Five companies exhibited last time: Alpha (VIP),
    Beta (important), Gamma (important, only a contact, no admin), Delta (general: never on the list), Epsilon
    (VIP but likely to come back). Three visitors: Wang (VIP), Li (important), Zhao (low)."""
    organizer = make.organizer("Win-back Expo")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Lighting Fair 照明展")
    held = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=200), name="Lighting 2025")
    target = make.edition(organizer, show=show, starts_on=date.today() + timedelta(days=160), name="Lighting 2026",
                          status="live")
    companies, admins = {}, {}
    for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon"):
        ex = exhibitor_services.add_exhibitor(scope, held, f"{name} Lighting", status="exhibited",
                                              area_m2=Decimal("36"), price=Decimal("36000"))
        companies[name] = ex
        if name != "Gamma":
            admins[name] = make.user("exhibitor_admin", exhibitor=ex, email=f"admin@{name.lower()}.example.com")
    accounts.add_contact(scope, companies["Gamma"].company, accounts.ContactData("Gao Gamma", email="gao@gamma.example.cn",
                                                                                is_main=True))
    people = {n: make.registration(held, name=f"{n} Visitor", email=f"{n.lower()}@buyer.example.com")
              for n in ("Wang", "Li", "Zhao")}
    held.status = "closed"  # the show is over (it was live to register its visitors)
    db.session.flush()
    cid = {n: e.company_id for n, e in companies.items()}
    pid = {n: r.person_id for n, r in people.items()}
    values = {cid["Alpha"]: value("vip", 100.0), cid["Beta"]: value("important", 60.0),
              cid["Gamma"]: value("important", 50.0), cid["Delta"]: value("general", 500.0),
              cid["Epsilon"]: value("vip", 200.0)}
    scores = {cid["Alpha"]: score(cid["Alpha"], 0.2, "Fewer leads than peers", "Took less space"),
              cid["Beta"]: score(cid["Beta"], 0.1, "Open complaint"), cid["Gamma"]: score(cid["Gamma"], 0.4),
              cid["Delta"]: score(cid["Delta"], 0.05), cid["Epsilon"]: score(cid["Epsilon"], 0.9)}
    pvalues = {pid["Wang"]: value("vip", 10.0, "stability"), pid["Li"]: value("important", 8.0),
               pid["Zhao"]: value("low", 1.0)}
    pscores = {pid["Wang"]: score(pid["Wang"], 0.3), pid["Li"]: score(pid["Li"], 0.25),
               pid["Zhao"]: score(pid["Zhao"], 0.1)}
    manager = make.user("manager", organizer, email="manager@winback.example.com")
    db.session.commit()
    return SimpleNamespace(organizer=organizer, scope=scope, show=show, held=held, target=target, companies=companies,
                           admins=admins, people=people, cid=cid, pid=pid, values=values, scores=scores,
                           pvalues=pvalues, pscores=pscores, manager=manager)


def exhibitor_list(f):
    names = watchlist.names_of(f.scope, "exhibitor", list(f.values))
    facts = watchlist.exhibitor_facts(f.scope, f.held, list(f.values))
    return watchlist.rank("exhibitor", f.values, f.scores, names, facts)


def visitor_list(f):
    names = watchlist.names_of(f.scope, "visitor", list(f.pvalues))
    facts = watchlist.visitor_facts(f.scope, f.held, list(f.pvalues))
    return watchlist.rank("visitor", f.pvalues, f.pscores, names, facts)


# --- ranking and suggested actions -----------------------------------------------------------------------

def test_rank_keeps_valuable_customers_at_risk_by_value_times_risk(fair):
    rows = exhibitor_list(fair)
    # Alpha 100 × 0.8 = 80, Beta 60 × 0.9 = 54, Gamma 50 × 0.6 = 30; Delta is general, Epsilon likely to come.
    assert [r.name for r in rows] == ["Alpha Lighting", "Beta Lighting", "Gamma Lighting"]
    assert [round(r.priority, 1) for r in rows] == [80.0, 54.0, 30.0]
    assert rows[0].reasons == ["Fewer leads than peers", "Took less space"]
    assert rows[0].tier == "vip" and rows[0].tier_label == "VIP" and rows[0].stage_label == "Decline"
    visitors = visitor_list(fair)
    assert [r.name for r in visitors] == ["Wang Visitor", "Li Visitor"]


def test_rank_needs_a_score_and_a_name_and_ties_break_on_tier():
    values = {1: value("important", 10.0), 2: value("vip", 10.0), 3: value("vip", 99.0), 4: value("vip", 5.0)}
    scores = {1: score(1, 0.0), 2: score(2, 0.0), 4: score(4, 0.5)}  # 3 has no score; 4 is at the threshold
    rows = watchlist.rank("exhibitor", values, scores, {1: "One", 2: "Two", 4: "Four"})
    assert [r.subject_id for r in rows] == [2, 1]
    assert watchlist.rank("exhibitor", values, scores, {}) == []


@pytest.mark.parametrize("facts, code", [
    ({"open_tickets": 2, "leads_vs_median": 0.1}, "service_call"),
    ({"satisfaction": 4.0}, "call_back"),
    ({"leads_vs_median": 0.2}, "matchmaking"),
    ({"price_trend": 1}, "early_bird"),
    ({"area_trend": -1}, "visit"),
    ({"took_part": False, "leads_vs_median": 0.1}, "reactivate"),
    ({}, "personal_offer"),
    ({"leads_vs_median": None, "price_trend": 0, "area_trend": 1, "satisfaction": 9}, "personal_offer"),
])
def test_suggested_action_for_an_exhibitor(facts, code):
    assert watchlist.suggest("exhibitor", facts)[0].code == code


@pytest.mark.parametrize("facts, code", [
    ({"open_tickets": 1, "checked_in": False}, "service_call"),
    ({"checked_in": False}, "fast_track"),
    ({"checked_in": True, "booths_visited": 1}, "matchmaking"),
    ({"checked_in": True, "booths_visited": 12}, "hosted_buyer"),
])
def test_suggested_action_for_a_visitor(facts, code):
    assert watchlist.suggest("visitor", facts)[0].code == code


def test_exhibitor_facts_from_the_data(fair, make):
    """Alpha took 0 leads while Beta took 2 (median 0 of five → no ratio), Alpha shrank and paid more per m²."""
    scope, held = fair.scope, fair.held
    previous = make.edition(fair.organizer, show=fair.show, starts_on=held.starts_on - timedelta(days=365),
                            name="Lighting 2024", status="closed")
    exhibitor_services.add_exhibitor(scope, previous, "Alpha Lighting", status="exhibited", area_m2=Decimal("54"),
                                     price=Decimal("45000"))
    beta = fair.companies["Beta"]
    booth = make.user("booth_staff", exhibitor=beta)
    db.session.commit()
    held.status = "live"  # scanning needs a live edition
    db.session.flush()
    for name in ("Wang", "Li"):
        Tenant.capture(booth, fair.people[name])
    held.status = "closed"
    db.session.flush()
    facts = watchlist.exhibitor_facts(scope, held, list(fair.values))
    alpha, beta_facts = facts[fair.cid["Alpha"]], facts[fair.cid["Beta"]]
    assert alpha["leads"] == 0 and beta_facts["leads"] == 2
    assert alpha["area_trend"] == -1 and alpha["price_trend"] == 1  # 1000/m² now against 833/m² before
    assert "area_trend" not in beta_facts
    assert watchlist.suggest("exhibitor", alpha)[0].code == "early_bird"
    visitors = watchlist.visitor_facts(scope, held, list(fair.pvalues))
    assert visitors[fair.pid["Wang"]]["booths_visited"] == 1 and visitors[fair.pid["Wang"]]["checked_in"] is False


def test_next_and_held_edition(fair):
    assert watchlist.next_edition(fair.held).id == fair.target.id
    assert watchlist.next_edition(fair.target) is None
    assert watchlist.held_edition(fair.held).id == fair.held.id
    assert watchlist.held_edition(fair.target).id == fair.held.id  # live: looks back on the closed one


# --- the selection becomes the campaign ---------------------------------------------------------------------

def test_selection_becomes_exactly_the_chosen_recipients(fair, make):
    other = make.tenant("Z")  # another organizer's company and person: their ids are forged input here
    rows = exhibitor_list(fair)
    chosen = [fair.cid["Alpha"], fair.cid["Gamma"], other.exhibitor.company_id, fair.cid["Delta"], "x", "-3", "0"]
    campaign = winback.create_winback(fair.scope, fair.held, "exhibitor", chosen, rows, actor_id=fair.manager.id)
    db.session.commit()
    assert campaign.kind == "winback" and campaign.status == "draft"
    assert campaign.edition_id == fair.held.id and campaign.target_edition_id == fair.target.id
    recipients = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)).all()
    # Alpha through its admin's account, Gamma (no admin) through its main contact; Beta unticked, Delta and the
    # other organizer's company are not on the list.
    assert {(r.company_id, r.addressee.email) for r in recipients} == {
        (fair.cid["Alpha"], "admin@alpha.example.com"), (fair.cid["Gamma"], "gao@gamma.example.cn")}
    assert all(r.organizer_id == fair.organizer.id for r in recipients)
    assert campaign.settings["mailed"] == [fair.cid["Alpha"], fair.cid["Gamma"]]
    assert campaign.settings["rest"] == [fair.cid["Beta"]] and campaign.settings["holdout"] == []
    assert campaign.recipient_count == 2
    assert campaign.subject_en and campaign.subject_zh and "{link}" in campaign.body_en


def test_nothing_valid_chosen_is_refused(fair, make):
    other = make.tenant("Y")
    rows = exhibitor_list(fair)
    for chosen in ([], [other.exhibitor.company_id], ["\x00", "1" * 40, None], list(range(10**6, 10**6 + 20000))):
        with pytest.raises(ServiceError):
            winback.create_winback(fair.scope, fair.held, "exhibitor", chosen, rows)
    with pytest.raises(ServiceError):
        winback.create_winback(fair.scope, fair.held, "robots", [fair.cid["Alpha"]], rows)
    with pytest.raises(ServiceError):
        winback.create_winback(Scope(other.organizer.id), fair.held, "exhibitor", [fair.cid["Alpha"]], rows)
    assert db.session.scalar(select(Campaign.id).where(Campaign.kind == "winback")) is None


def test_parse_ids_drops_garbage_and_caps():
    assert winback.parse_ids(["3", "3", " 4 ", "x", "\x00", "-1", "0", "99999999999999", "5"]) == [3, 4, 5]
    assert len(winback.parse_ids([str(i) for i in range(1, 20000)])) == winback.MAX_SELECTION


def test_holdout_is_random_stored_and_not_mailed(fair):
    rows = exhibitor_list(fair)
    ids = [r.subject_id for r in rows]
    campaign = winback.create_winback(fair.scope, fair.held, "exhibitor", ids, rows, holdout=True,
                                      rng=random.Random(7))
    db.session.commit()
    kept = campaign.settings["holdout"]
    assert len(kept) == 1 and kept[0] in ids and campaign.settings["holdout_asked"] is True
    assert sorted(campaign.settings["mailed"] + kept) == sorted(ids)
    mailed_companies = set(db.session.scalars(select(Recipient.company_id).where(Recipient.campaign_id == campaign.id)))
    assert mailed_companies == set(campaign.settings["mailed"])
    # Another draw keeps another customer back some of the time: the choice is random, not the first row.
    drawn = {winback.create_winback(fair.scope, fair.held, "exhibitor", ids, rows, holdout=True,
                                    rng=random.Random(seed)).settings["holdout"][0] for seed in range(12)}
    assert len(drawn) > 1


def test_visitor_winback_mails_the_persons(fair):
    rows = visitor_list(fair)
    campaign = winback.create_winback(fair.scope, fair.held, "visitor", [fair.pid["Wang"], fair.pid["Zhao"]], rows)
    db.session.commit()
    assert list(db.session.scalars(select(Recipient.person_id).where(Recipient.campaign_id == campaign.id))) == [
        fair.pid["Wang"]]
    assert campaign.settings["rest"] == [fair.pid["Li"]]


def test_sending_a_winback_mails_each_recipient_with_the_next_editions_link(fair, app):
    rows = exhibitor_list(fair)
    campaign = winback.create_winback(fair.scope, fair.held, "exhibitor", [r.subject_id for r in rows], rows)
    visitors = winback.create_winback(fair.scope, fair.held, "visitor", [fair.pid["Wang"]], visitor_list(fair))
    for c in (campaign, visitors):
        assert services.start(c) == c.recipient_count
        batch = services.send_batch(c.id)
        assert batch.ran and not batch.more and len(batch.message_ids) == c.recipient_count
    db.session.commit()
    mails = {m.recipient: m for m in db.session.scalars(select(MailMessage))}
    assert {"admin@alpha.example.com", "admin@beta.example.com", "gao@gamma.example.cn",
            "wang@buyer.example.com"} <= set(mails)
    assert f"/e/{fair.target.slug}" in mails["admin@alpha.example.com"].body_text
    assert "as an exhibitor of" in mails["admin@alpha.example.com"].body_text
    assert f"/e/{fair.target.slug}?c=" in mails["wang@buyer.example.com"].body_text
    # The visitor's tracked link counts for the target edition (the registration_link hook).
    recipient = db.session.scalar(select(Recipient).where(Recipient.campaign_id == visitors.id))
    assert services.registration_link(fair.target, services.link_token(recipient.id)) == {
        "source": "campaign", "campaign_id": visitors.id}
    assert services.registration_link(fair.held, services.link_token(recipient.id)) == {}
    # The contact's unsubscribe link works.
    contact = db.session.scalar(select(Recipient).where(Recipient.campaign_id == campaign.id,
                                                        Recipient.contact_id.is_not(None)))
    sub = services.subscription(services.contact_unsubscribe_token(campaign.id, contact.contact_id))
    assert sub is not None and sub.person.email == "gao@gamma.example.cn"
    assert services.subscription(services.contact_unsubscribe_token(campaign.id, 10**15)) is None


# --- the effect at the next edition ------------------------------------------------------------------------

def test_effect_compares_the_mailed_with_the_rest_of_the_watch_list(fair, make):
    rows = exhibitor_list(fair)
    ids = [r.subject_id for r in rows]  # Alpha, Beta, Gamma
    campaign = winback.create_winback(fair.scope, fair.held, "exhibitor", [fair.cid["Alpha"], fair.cid["Gamma"]],
                                      rows)
    services.start(campaign)
    services.send_batch(campaign.id)
    effect = winback.effect(campaign)
    assert (effect.mailed.size, effect.mailed.back, effect.not_mailed.size, effect.not_mailed.back) == (2, 0, 1, 0)
    assert effect.difference_pp == 0.0
    # At the next edition Alpha books (contracted), Gamma stays a prospect, Beta (not mailed) does not come.
    exhibitor_services.add_exhibitor(fair.scope, fair.target, "Alpha Lighting", status="contracted")
    exhibitor_services.add_exhibitor(fair.scope, fair.target, "Gamma Lighting", status="prospect")
    db.session.flush()
    effect = winback.effect(campaign)
    assert effect.target.id == fair.target.id
    assert (effect.mailed.back, effect.mailed.rate) == (1, 0.5)
    assert (effect.not_mailed.back, effect.not_mailed.rate) == (0, 0.0)
    assert effect.difference_pp == 50.0
    assert ids and winback.effect(db.session.get(Campaign, fair.held.id) or campaign).audience == "exhibitor"


def test_only_the_customers_a_mail_reached_count_as_mailed(fair):
    gamma = db.session.scalar(select(CompanyContact).where(CompanyContact.company_id == fair.cid["Gamma"]))
    gamma.email = ""  # Gamma: no admin, and now no contact to mail
    rows = exhibitor_list(fair)
    campaign = winback.create_winback(fair.scope, fair.held, "exhibitor", [fair.cid["Alpha"], fair.cid["Gamma"]],
                                      rows)
    assert campaign.settings["no_address"] == [fair.cid["Gamma"]]
    assert winback.effect(campaign).mailed.size == 0  # a draft: nothing went out yet
    services.start(campaign)
    services.send_batch(campaign.id)
    effect = winback.effect(campaign)
    assert effect.mailed.size == 1 and effect.not_mailed.size == 1  # Alpha; Beta, not chosen


def test_visitor_effect_counts_registered_and_attended(fair, make):
    rows = visitor_list(fair)
    campaign = winback.create_winback(fair.scope, fair.held, "visitor", [fair.pid["Wang"], fair.pid["Li"]], rows,
                                      holdout=True, rng=random.Random(1))
    kept = campaign.settings["holdout"]
    mailed = campaign.settings["mailed"]
    assert len(kept) == 1 and len(mailed) == 1
    services.start(campaign)
    services.send_batch(campaign.id)
    assert services.report(campaign).registered_any == 0  # for the next edition: the held one does not count
    # The mailed visitor registers again and comes (a gate scan); the one kept back does not register.
    person = fair.people["Wang"].person if mailed == [fair.pid["Wang"]] else fair.people["Li"].person
    again = make.registration(fair.target, name=person.name, email=person.email)
    gate = make.user("onsite", fair.organizer)
    from expo.onsite import services as onsite
    from expo.visitors import services as visitor_services

    from ..conftest import new_scan_id

    outcome = onsite.record_scan(gate, code=visitor_services.badge_code(again), kind="checkin",
                                 client_scan_id=new_scan_id())
    assert outcome.result == "ok", outcome.reason
    effect = winback.effect(campaign)
    assert (effect.mailed.size, effect.mailed.back, effect.mailed.attended) == (1, 1, 1)
    assert services.report(campaign).registered_any == 1
    assert (effect.holdout.size, effect.holdout.back) == (1, 0)
    assert (effect.not_mailed.size, effect.not_mailed.back) == (1, 0)
    assert effect.difference_pp == 100.0


def test_effect_waits_for_the_next_edition(fair, make):
    organizer = fair.organizer
    show = core.create_show(fair.scope, "Single Show")
    only = make.edition(organizer, show=show, name="Single 2025", status="closed")
    names = {fair.cid["Alpha"]: "Alpha Lighting"}
    rows = watchlist.rank("exhibitor", {fair.cid["Alpha"]: value("vip", 1.0)},
                          {fair.cid["Alpha"]: score(fair.cid["Alpha"], 0.1)}, names)
    campaign = winback.create_winback(fair.scope, only, "exhibitor", [fair.cid["Alpha"]], rows)
    assert campaign.target_edition_id is None
    assert winback.effect(campaign).target is None
    later = make.edition(organizer, show=show, starts_on=date.today() + timedelta(days=300), name="Single 2026")
    assert winback.effect(campaign).target.id == later.id and campaign.target_edition_id == later.id


# --- the pages ------------------------------------------------------------------------------------------

@pytest.fixture
def fixed_sources(fair, monkeypatch):
    """The watch list's adapters answer the fixed values and scores (the other parts' interfaces, not their
    internals)."""
    def values(scope, edition, kind):
        return dict(fair.values if kind == "exhibitor" else fair.pvalues) if edition.id == fair.held.id else {}

    def scores(scope, edition, kind):
        return dict(fair.scores if kind == "exhibitor" else fair.pscores) if edition.id == fair.held.id else {}

    monkeypatch.setattr(watchlist, "value_source", values)
    monkeypatch.setattr(watchlist, "score_source", scores)
    return fair


def test_watch_list_page_and_one_click_campaign(app, fixed_sources):
    f = fixed_sources
    manager = Browser(app, f.manager.email)
    page = manager.get(f"/org/editions/{f.target.id}/watchlist").get_data(as_text=True)
    assert "Alpha Lighting" in page and "Beta Lighting" in page and "Delta Lighting" not in page
    assert 'id="start-winback"' in page and "Fewer leads than peers" in page
    assert page.index("Alpha Lighting") < page.index("Beta Lighting") < page.index("Gamma Lighting")
    visitors = manager.get(f"/org/editions/{f.target.id}/watchlist?tab=visitor").get_data(as_text=True)
    assert "Wang Visitor" in visitors and "Zhao Visitor" not in visitors
    response = manager.post(f"/org/editions/{f.target.id}/winback",
                            {"kind": "exhibitor", "ids": [str(f.cid["Alpha"]), str(f.cid["Beta"])]})
    path = redirect_path(response)
    campaign = db.session.scalar(select(Campaign).where(Campaign.kind == "winback"))
    assert path == f"/org/editions/{f.held.id}/campaigns/{campaign.id}"
    page = manager.get(path).get_data(as_text=True)
    assert "admin@alpha.example.com" in page and "admin@beta.example.com" in page
    assert "gao@gamma.example.cn" not in page
    # Change the mail, then send: the report shows the effect.
    edit = manager.post(f"/org/editions/{f.held.id}/campaigns/{campaign.id}/mail",
                        {"name": "Win them back", "subject_en": "Hello {name}", "body_en": "Come back: {link}",
                         "subject_zh": "", "body_zh": ""})
    assert redirect_path(edit) == path
    assert manager.post(f"/org/editions/{f.held.id}/campaigns/{campaign.id}/mail",
                        {"name": "x\x00", "subject_en": "S"}).status_code == 200
    manager.post(f"/org/editions/{f.held.id}/campaigns/{campaign.id}/status", {"to": "sending"})
    report = manager.get(f"/org/editions/{f.held.id}/campaigns/{campaign.id}/report").get_data(as_text=True)
    assert 'id="winback-effect"' in report and "percentage points" in report
    listed = manager.get(f"/org/editions/{f.held.id}/campaigns").get_data(as_text=True)
    assert "Win them back" in listed and "Win-back" in listed and "Digest" not in listed


def test_forged_selection_is_refused_on_the_page(app, fixed_sources, make):
    f = fixed_sources
    other = make.tenant("X")
    db.session.commit()
    manager = Browser(app, f.manager.email)
    for ids in ([str(other.exhibitor.company_id)], ["\x00"], [str(10**30)], []):
        response = manager.post(f"/org/editions/{f.target.id}/winback", {"kind": "exhibitor", "ids": ids})
        assert redirect_path(response) == f"/org/editions/{f.target.id}/watchlist"
    response = manager.post(f"/org/editions/{f.target.id}/winback", {"kind": "\x00robot", "ids": ["1"]})
    assert response.status_code == 302
    huge = manager.post(f"/org/editions/{f.target.id}/winback",
                        {"kind": "exhibitor", "ids": [str(i) for i in range(10**6, 10**6 + 900)] + [str(f.cid["Beta"])]})
    assert huge.status_code in (302, 413)
    ids = set(db.session.scalars(select(Recipient.company_id).join(Campaign).where(Campaign.kind == "winback")))
    assert ids <= {f.cid["Beta"]}
    # Another organizer's manager cannot start one on this edition.
    assert Browser(app, other.users["manager"].email).post(
        f"/org/editions/{f.target.id}/winback", {"kind": "exhibitor", "ids": [str(f.cid["Alpha"])]}).status_code == 404
