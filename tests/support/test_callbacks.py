"""Call-backs (回访, R21): lists made from filters on fixed data, round-robin split between callers, calls with
their outcomes (requeue at the time asked, retries, not reached after the last attempt) on a clock the test sets,
the timeline and the audit, the report's figures and the not-reached CSV, and hostile input on the pages."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.onsite import services as onsite_services
from expo.support import callback_report, callbacks
from expo.support.callback_models import Call, CallList, CallTarget
from expo.visitors import privacy
from expo.visitors import services as visitor_services

from ..conftest import Browser, Tenant, new_scan_id, race

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def _authority(registration, value):
    registration.answers = {"purchase_authority": {"v": 1, "value": value}}


@pytest.fixture
def world(make):
    """One live edition. Exhibitors: Alpha (paid, hall 1, 36 m², 2 hot leads), Beta (contracted, hall 2, 18 m²,
    1 hot lead), Gamma (prospect, hall 1, no area). Visitors: Wang (buyer who decides, checked in, gave 2 hot
    leads), Li (buyer who recommends), Smith (trade visitor who decides, checked in), Public Pat (public)."""
    t = make.tenant("A", exhibitors=["Alpha Furniture 阿尔法家具", "Beta Lighting", "Gamma Textiles"], visitors=0,
                    leads=False)
    alpha, beta, gamma = (e for e, _a, _b in t.exhibitors)
    alpha.status, alpha.hall, alpha.area_m2 = "paid", "1", Decimal("36")
    beta.status, beta.hall, beta.area_m2 = "contracted", "2", Decimal("18")
    gamma.status, gamma.hall = "prospect", "1"
    alpha.company.phone = "+86 755 1234 5678"
    wang = make.registration(t.edition, name="王伟", category="buyer", phone="+86 139 1234 5678")
    li = make.registration(t.edition, name="李娜", category="buyer")
    smith = make.registration(t.edition, name="John Smith", category="trade_visitor")
    pat = make.registration(t.edition, name="Public Pat", category="public")
    _authority(wang, "decides"), _authority(li, "recommends"), _authority(smith, "decides"), _authority(pat, "none")
    db.session.flush()
    for booth, visitor, rating in ((t.exhibitors[0][2], wang, "hot"), (t.exhibitors[0][2], smith, "hot"),
                                   (t.exhibitors[1][2], wang, "hot"), (t.exhibitors[1][2], li, "warm")):
        Tenant.capture(booth, visitor).rating = rating
    for visitor in (wang, smith):
        onsite_services.record_scan(t.users["onsite"], code=visitor_services.badge_code(visitor), kind="checkin",
                                    client_scan_id=new_scan_id(), edition_id=t.edition.id)
    sales2 = make.user("sales", t.organizer, email="sales2.a@example.com")
    db.session.commit()
    return {"t": t, "scope": Scope(t.organizer.id), "edition": t.edition, "alpha": alpha, "beta": beta,
            "gamma": gamma, "wang": wang, "li": li, "smith": smith, "pat": pat, "sales2": sales2}


def names(call_list) -> list[str]:
    return [callbacks.target_name(t) for t in callbacks.targets(call_list)]


# --- selection -----------------------------------------------------------------------------------------------

def test_exhibitor_selection_filters(world):
    scope, edition = world["scope"], world["edition"]
    pick = lambda **kw: [e.company.name for e in callbacks.select_exhibitors(scope, edition, callbacks.Selection(**kw))]  # noqa: E731
    assert pick() == ["Alpha Furniture 阿尔法家具", "Beta Lighting", "Gamma Textiles"]
    assert pick(stages=["paid", "contracted"]) == ["Alpha Furniture 阿尔法家具", "Beta Lighting"]
    assert pick(hall="1") == ["Alpha Furniture 阿尔法家具", "Gamma Textiles"]
    assert pick(min_area=Decimal("20")) == ["Alpha Furniture 阿尔法家具"]
    assert pick(min_hot_received=1) == ["Alpha Furniture 阿尔法家具", "Beta Lighting"]
    assert pick(min_hot_received=2) == ["Alpha Furniture 阿尔法家具"]
    assert pick(stages=["prospect"], min_hot_received=1) == []


def test_visitor_selection_filters(world):
    scope, edition = world["scope"], world["edition"]
    pick = lambda **kw: [callbacks.display_name(r) for r in callbacks.select_registrations(  # noqa: E731
        scope, edition, callbacks.Selection(**kw))]
    assert pick(categories=["buyer"]) == ["李娜", "王伟"]
    assert pick(authorities=["decides"]) == ["John Smith", "王伟"]
    assert pick(checked_in=True) == ["John Smith", "王伟"]
    assert pick(min_hot_given=2) == ["王伟"]
    assert pick(min_hot_given=1) == ["John Smith", "王伟"]
    assert pick(categories=["buyer"], authorities=["recommends"]) == ["李娜"]


def test_list_from_filters_and_by_hand(world):
    scope, edition, manager = world["scope"], world["edition"], world["t"].users["manager"]
    made = callbacks.create_list(scope, edition, "Key exhibitors", "exhibitor",
                                 callbacks.Selection(stages=["paid", "contracted"]), actor_id=manager.id, now=T0)
    assert names(made) == ["Alpha Furniture 阿尔法家具", "Beta Lighting"]
    assert made.filters == {"stages": ["paid", "contracted"]}
    hand = callbacks.create_list(scope, edition, "By hand", "visitor", None, actor_id=manager.id, now=T0)
    assert names(hand) == []
    assert callbacks.add_targets(hand, registration_ids=[world["li"].id, world["li"].id, 999999]) == 1
    assert callbacks.add_targets(hand, registration_ids=[world["li"].id]) == 0  # on it already
    assert [c[1] for c in callbacks.candidates(hand, "王")] == ["王伟"]
    assert callbacks.candidates(hand, "李") == []  # on the list already
    with pytest.raises(ServiceError):
        callbacks.create_list(scope, edition, "  ", "visitor", None)
    with pytest.raises(ServiceError):
        callbacks.create_list(scope, edition, "x", "martians", None)


def test_round_robin_split(world, make):
    scope, edition, t = world["scope"], world["edition"], world["t"]
    made = callbacks.create_list(scope, edition, "Everyone", "visitor", callbacks.Selection(), now=T0)
    extra = [make.registration(edition, name=f"Buyer {n:02d}") for n in range(6)]
    callbacks.add_targets(made, registration_ids=[r.id for r in extra])
    sales, sales2, onsite = t.users["sales"], world["sales2"], t.users["onsite"]
    split = callbacks.assign(made, [sales.id, sales2.id, onsite.id, t.users["analyst"].id, 99999])
    assert split == {sales.id: 4, sales2.id: 3, onsite.id: 3}  # the analyst does not call; unknown ids dropped
    rows = callbacks.targets(made)
    assert [r.caller_id for r in rows[:4]] == [sales.id, sales2.id, onsite.id, sales.id]
    with pytest.raises(ServiceError):
        callbacks.assign(made, [t.users["analyst"].id])


# --- calls ------------------------------------------------------------------------------------------------

def _list_with_script(world, audience="exhibitor"):
    scope, edition = world["scope"], world["edition"]
    made = callbacks.create_list(scope, edition, "Post-show", audience,
                                 callbacks.Selection(stages=["paid", "contracted"]) if audience == "exhibitor"
                                 else callbacks.Selection(categories=["buyer"]), max_attempts=2, now=T0)
    callbacks.add_question(made, "yes_no", "Will you exhibit again?", "您会再次参展吗？")
    callbacks.add_question(made, "rating", "How satisfied are you?", "您的满意度？")
    callbacks.add_question(made, "choice", "What mattered most?", "",
                           "leads | Leads | 线索\nbrand | Brand | 品牌\nsales | Sales | 销售")
    callbacks.add_question(made, "text", "Anything to improve?", "有何改进建议？")
    callbacks.assign(made, [world["t"].users["sales"].id])
    return made


def test_outcomes_and_requeue(world):
    made = _list_with_script(world)
    sales = world["t"].users["sales"]
    scope, edition = world["scope"], world["edition"]
    due, later = callbacks.queue(scope, edition, sales.id, now=T0)
    assert [callbacks.target_name(t) for t in due] == ["Alpha Furniture 阿尔法家具", "Beta Lighting"]
    alpha, beta = due
    # Alpha asks to be called back in three hours: out of the queue until then, first when the time comes
    with pytest.raises(ServiceError):
        callbacks.record_call(alpha, caller_id=sales.id, attempt=1, outcome="call_back", now=T0)
    with pytest.raises(ServiceError):
        callbacks.record_call(alpha, caller_id=sales.id, attempt=1, outcome="call_back",
                              call_back_at=T0 - timedelta(minutes=1), now=T0)
    callbacks.record_call(alpha, caller_id=sales.id, attempt=1, outcome="call_back",
                          call_back_at=T0 + timedelta(hours=3), now=T0)
    due, later = callbacks.queue(scope, edition, sales.id, now=T0 + timedelta(minutes=5))
    assert [t.id for t in due] == [beta.id] and [t.id for t in later] == [alpha.id]
    # Beta does not answer: back after RETRY_AFTER; the second no answer is the last attempt (max 2)
    callbacks.record_call(beta, caller_id=sales.id, attempt=1, outcome="no_answer", now=T0 + timedelta(minutes=5))
    assert beta.status == "pending" and beta.due_at == T0 + timedelta(minutes=5) + callbacks.RETRY_AFTER
    due, _later = callbacks.queue(scope, edition, sales.id, now=T0 + timedelta(hours=3, minutes=1))
    assert [t.id for t in due] == [alpha.id, beta.id]  # the call back asked for comes first
    callbacks.record_call(beta, caller_id=sales.id, attempt=2, outcome="no_answer", now=T0 + timedelta(hours=3))
    assert beta.status == "unreachable"
    with pytest.raises(ServiceError):  # closed
        callbacks.record_call(beta, caller_id=sales.id, attempt=3, outcome="reached", now=T0 + timedelta(hours=4))
    answers = callbacks.parse_answers(made.questions, {f"q{q.id}": v for q, v in zip(
        made.questions, ("yes", "4", "leads", "更多买家 more buyers"))})
    callbacks.record_call(alpha, caller_id=sales.id, attempt=2, outcome="reached", answers=answers,
                          note="很满意", now=T0 + timedelta(hours=3, minutes=2))
    assert alpha.status == "reached"
    assert callbacks.queue(scope, edition, sales.id, now=T0 + timedelta(hours=5)) == ([], [])
    # the same call twice (a double click): refused, stored once
    with pytest.raises(ServiceError):
        callbacks.record_call(alpha, caller_id=sales.id, attempt=2, outcome="reached", now=T0 + timedelta(hours=5))
    assert db.session.scalar(select(db.func.count(Call.id)).where(Call.target_id == alpha.id)) == 2


def test_bad_answers_refused(world):
    made = _list_with_script(world)
    yes_no, rating, choice, text = made.questions
    for raw in ({f"q{yes_no.id}": "maybe"}, {f"q{rating.id}": "6"}, {f"q{rating.id}": "9" * 5000},
                {f"q{choice.id}": "other"}, {f"q{text.id}": "a\x00b"}, {f"q{text.id}": "x" * 1001}):
        with pytest.raises(ServiceError):
            callbacks.parse_answers(made.questions, raw)
    assert callbacks.parse_answers(made.questions, {"q999999": "yes", f"q{rating.id}": " 5 "}) == {str(rating.id): 5}


def test_calls_land_on_timeline_and_audit(world):
    made = _list_with_script(world, "visitor")
    sales = world["t"].users["sales"]
    wang = next(t for t in callbacks.targets(made) if t.registration_id == world["wang"].id)
    callbacks.record_call(wang, caller_id=sales.id, attempt=1, outcome="refused", note="不需要 not interested", now=T0)
    exhibitor_list = _list_with_script(world)
    alpha = next(t for t in callbacks.targets(exhibitor_list) if t.exhibitor_id == world["alpha"].id)
    callbacks.record_call(alpha, caller_id=sales.id, attempt=1, outcome="wrong_number", now=T0)
    db.session.commit()
    person = db.session.scalars(select(Activity).where(Activity.kind.like("callback.%"),
                                                       Activity.subject_type == "person")).all()
    assert [(a.subject_id, a.kind, a.details["note"]) for a in person] == [
        (world["wang"].person_id, "callback.refused", "不需要 not interested")]
    company = db.session.scalars(select(Activity).where(Activity.kind.like("callback.%"),
                                                        Activity.subject_type == "company")).all()
    assert [(a.subject_id, a.kind) for a in company] == [(world["alpha"].company_id, "callback.wrong_number")]
    assert company[0].at == T0 and company[0].user_id == sales.id
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "callback.called")).all()
    assert sorted(a.details["outcome"] for a in audits) == ["refused", "wrong_number"]

    # the visitor's own data shows the call; erasing the visitor takes the note off the call and the timeline
    section = next(s for s in privacy.personal_data_sections(world["wang"].person) if s["key"] == "callbacks")
    assert [r["note"] for r in section["rows"]] == ["不需要 not interested"]
    privacy.erase_person(world["wang"].person, by="staff", actor_id=world["t"].users["owner"].id)
    db.session.commit()
    call = db.session.scalar(select(Call).where(Call.target_id == wang.id))
    assert (call.note, call.answers, call.outcome) == ("", {}, "refused")  # the count stays for the report
    assert db.session.get(Activity, person[0].id).details["note"] == ""


def test_report_figures_and_not_reached_csv(world):
    made = _list_with_script(world, "visitor")  # buyers: 王伟, 李娜
    sales = world["t"].users["sales"]
    extra = callbacks.add_targets(made, registration_ids=[world["smith"].id, world["pat"].id])
    assert extra == 2
    callbacks.assign(made, [sales.id])
    rows = {callbacks.target_name(t): t for t in callbacks.targets(made)}
    q = made.questions
    callbacks.record_call(rows["王伟"], caller_id=sales.id, attempt=1, outcome="reached", now=T0,
                          answers={str(q[0].id): "yes", str(q[1].id): 5, str(q[2].id): "leads", str(q[3].id): "更多买家"})
    callbacks.record_call(rows["李娜"], caller_id=sales.id, attempt=1, outcome="reached", now=T0,
                          answers={str(q[0].id): "no", str(q[1].id): 2, str(q[2].id): "leads"})
    callbacks.record_call(rows["John Smith"], caller_id=sales.id, attempt=1, outcome="wrong_number", now=T0)
    # Public Pat: never called
    rows["Public Pat"].person.phone = "=HYPERLINK(\"http://evil\")"
    report = callback_report.report(made, "en")
    assert {k: report.figures[k] for k in ("total", "reached", "not_reached", "pending", "calls")} == {
        "total": 4, "reached": 2, "not_reached": 1, "pending": 1, "calls": 3}
    assert report.figures["share"] == 0.5
    yes_no, rating, choice, text = report.questions
    assert yes_no.counts == [("Yes", 1), ("No", 1)]
    assert rating.mean == 3.5 and rating.counts == [("1", 0), ("2", 1), ("3", 0), ("4", 0), ("5", 1)]
    assert choice.counts == [("Leads", 2), ("Brand", 0), ("Sales", 0)]
    assert text.texts == [("王伟", "更多买家")]
    assert rating.chart["series"][0]["data"] == [0, 1, 0, 0, 1]
    assert [callbacks.target_name(t) for t in callback_report.not_reached(made, include_open=False)] == ["John Smith"]
    text_csv = callback_report.not_reached_csv(made, actor_id=sales.id)
    lines = list(csv.reader(io.StringIO(text_csv.lstrip("\ufeff"))))
    assert lines[0][:4] == ["Customer", "Phone", "Email", "Status"]
    by_name = {line[0]: line for line in lines[1:]}
    assert set(by_name) == {"John Smith", "Public Pat"}
    assert by_name["John Smith"][3] == "Wrong number" and by_name["John Smith"][5] == "1"
    assert by_name["Public Pat"][1].startswith("'=")  # formula-safe
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "callback.exported")) is not None


def test_same_call_recorded_twice_at_once(app, world):
    made = _list_with_script(world)
    target_id = callbacks.targets(made)[0].id
    sales_id = world["t"].users["sales"].id
    db.session.commit()

    def act(n):
        target = db.session.get(CallTarget, target_id)
        return callbacks.record_call(target, caller_id=sales_id, attempt=1, outcome="reached",
                                     note=f"racer {n}", now=T0).id

    outcomes = race(app, act, [1, 2])
    assert sum(isinstance(o, ServiceError) for o in outcomes) == 1
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(Call.id)).where(Call.target_id == target_id)) == 1
    assert db.session.get(CallTarget, target_id).attempts == 1


# --- pages ------------------------------------------------------------------------------------------------

def test_pages_flow_and_hostile_input(app, world, make):
    t = world["t"]
    manager, sales = Browser(app, t.users["manager"]), Browser(app, t.users["sales"])
    base = f"/org/editions/{t.edition.id}/callbacks"
    r = manager.post(base, {"name": "Key exhibitors 重点展商", "audience": "exhibitor", "stages": ["paid", "contracted"],
                            "min_area": "10"})
    assert r.status_code == 302
    made = db.session.scalar(select(CallList).where(CallList.name == "Key exhibitors 重点展商"))
    page = f"{base}/{made.id}"
    for data in ({"name": "a\x00b", "audience": "visitor"}, {"name": "x", "audience": "exhibitor", "min_area": "1e999"},
                 {"name": "x", "audience": "exhibitor", "min_hot_received": "9" * 400},
                 {"name": "x", "audience": "exhibitor", "min_area": "-3"}, {"name": "x", "audience": "zzz"},
                 {"name": "x" * 300, "audience": "visitor"}):
        assert manager.post(base, data).status_code == 400
    assert manager.post(page, {"action": "add_question", "kind": "rating", "text_en": "Satisfied?",
                               "text_zh": "满意吗？"}).status_code == 302
    assert manager.post(page, {"action": "add_question", "kind": "choice", "text_en": "Which?",
                               "choices": "only one"}).status_code == 400
    assert manager.post(page, {"action": "assign", "callers": [str(t.users["sales"].id), "99999999999"]}).status_code == 302
    assert manager.post(page, {"action": "remove", "call_target_id": "1" * 30}).status_code == 400
    assert manager.post(page, {"action": "nonsense"}).status_code == 400
    for url in (page, f"{page}/report", base, f"{base}/queue"):
        assert manager.get(url).status_code == 200, url
    assert "Alpha Furniture" in sales.get(f"{base}/queue").get_data(as_text=True)
    target = callbacks.targets(made)[0]
    question = made.questions[0]
    call_url = f"{page}/customers/{target.id}"
    assert sales.get(call_url).status_code == 200
    assert sales.post(call_url, {"attempt": "1", "outcome": "reached", f"q{question.id}": "7"}).status_code == 400
    for when in ("not a time", "0001-01-01T00:00", "9999-12-31T23:59+14:00", "1970-01-01T00:00", "2026\x00"):
        assert sales.post(call_url, {"attempt": "1", "outcome": "call_back", "call_back_at": when}).status_code == 400
    assert sales.post(call_url, {"attempt": "99999999999999", "outcome": "reached"}).status_code == 400
    assert sales.post(call_url, {"attempt": "1", "outcome": "reached", "note": "ok\x00"}).status_code == 400
    r = sales.post(call_url, {"attempt": "1", "outcome": "reached", f"q{question.id}": "4", "note": "好"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{base}/queue")
    assert sales.post(call_url, {"attempt": "1", "outcome": "reached"}).status_code == 400  # recorded already
    # "call back tomorrow at this time", in the show's zone: due then (stored in UTC), out of the queue until then
    second = callbacks.targets(made)[1]
    shanghai = ZoneInfo("Asia/Shanghai")
    local = (datetime.now(shanghai) + timedelta(days=1)).replace(second=0, microsecond=0, tzinfo=None)
    r = sales.post(f"{page}/customers/{second.id}", {"attempt": "1", "outcome": "call_back",
                                                     "call_back_at": local.strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(CallTarget, second.id).due_at == local.replace(tzinfo=shanghai).astimezone(timezone.utc)
    assert "Nobody is waiting for your call right now." in sales.get(f"{base}/queue").get_data(as_text=True)
    report = manager.get(f"{page}/report").get_data(as_text=True)
    assert "mean 4.0" in report
    assert manager.get(f"{page}/not-reached.csv").status_code == 200
    # the analyst reads the report, cannot call; another organizer's ids are not found
    analyst = Browser(app, t.users["analyst"])
    assert analyst.get(f"{page}/report").status_code == 200 and analyst.get(call_url).status_code == 403
    other = make.tenant("B", exhibitors=1, visitors=0, leads=False)
    db.session.commit()
    outsider = Browser(app, other.users["manager"])
    assert outsider.get(f"/org/editions/{other.edition.id}/callbacks/{made.id}").status_code == 404
    assert outsider.get(f"/org/editions/{other.edition.id}/callbacks/{made.id}/customers/{target.id}").status_code == 404
    assert outsider.get(f"/org/editions/{other.edition.id}/callbacks/{made.id}/not-reached.csv").status_code == 404
    assert outsider.post(f"/org/editions/{other.edition.id}/callbacks/{made.id}", {"action": "assign"}).status_code == 404
    # a customer of another caller is not this caller's
    sales2 = Browser(app, world["sales2"])
    assert sales2.get(call_url).status_code == 404
    assert manager.get(f"{base}/99999999999/report").status_code == 404
