"""Group registration: one contact registers colleagues in the same submit; each gets their own registration,
badge and mail; duplicates inside the group are errors beside the fields; an address already registered is
mailed its own link (no registration oracle)."""
from __future__ import annotations

import re

from sqlalchemy import select

from expo.core.models import MailMessage
from expo.extensions import db
from expo.visitors import services as visitor_services
from expo.visitors.models import Registration

from ..conftest import csrf_token, field_errors, redirect_path


def _form(colleagues=(), **overrides) -> dict:
    data = {"name": "Chen Jie", "email": "chen.jie@example.cn", "company": "Jie Office Supplies",
            "job_title": "Purchasing director", "category": "trade_visitor", "consent": "y",
            "share_with_exhibitors": "y"}
    for index, (name, email, job_title) in enumerate(colleagues):
        data.update({f"colleagues-{index}-name": name, f"colleagues-{index}-email": email,
                     f"colleagues-{index}-job_title": job_title})
    if colleagues:
        data["group_consent"] = "y"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, edition, data):
    url = f"/e/{edition.slug}"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def _registrations(edition):
    db.session.expire_all()
    return list(db.session.scalars(select(Registration).where(Registration.edition_id == edition.id)
                                   .order_by(Registration.id)))


def _badge_mails():
    db.session.expire_all()
    return [m for m in db.session.scalars(select(MailMessage).order_by(MailMessage.id)) if m.attachments]


COLLEAGUES = [("Liu Yang", "liu.yang@example.cn", "Buyer"), ("Sun Li", "sun.li@example.cn", ""),
              ("Zhou Min", "zhou.min@example.cn", "Designer")]


def test_a_group_makes_one_registration_badge_and_mail_each(make, client):
    edition = make.edition()
    db.session.commit()
    page = client.get(f"/e/{edition.slug}").get_data(as_text=True)
    assert page.count('name="colleagues-') == 30  # ten rows of name, email, job title
    response = _post(client, edition, _form(COLLEAGUES))
    assert redirect_path(response).endswith("/mail-sent")
    contact, *colleagues = _registrations(edition)
    assert [r.person.email for r in colleagues] == [email for _n, email, _j in COLLEAGUES]
    assert [r.visitor_name for r in colleagues] == [name for name, _e, _j in COLLEAGUES]
    assert [r.job_title_as_given for r in colleagues] == ["Buyer", "", "Designer"]
    for registration in colleagues:
        assert registration.group_contact_id == contact.id
        assert registration.company_as_given == "Jie Office Supplies" and registration.category == "trade_visitor"
        assert registration.status == "confirmed" and registration.access_key != contact.access_key
        assert registration.share_with_exhibitors is False  # their own choice, from their own page
    mails = _badge_mails()
    assert sorted(m.recipient for m in mails) == sorted([contact.person.email] + [e for _n, e, _j in COLLEAGUES])
    keys = {re.search(r"/r/([A-Za-z0-9_-]+)", m.body_text).group(1) for m in mails}
    assert len(keys) == 4  # each their own link


def test_duplicates_inside_the_group_are_shown_beside_the_fields_and_nothing_is_stored(make, client):
    edition = make.edition()
    db.session.commit()
    data = _form([("Liu Yang", "liu.yang@example.cn", ""), ("Liu Again", "LIU.YANG@example.cn", ""),
                  ("Myself", "chen.jie@example.cn", ""), ("No Mail", "", "")])
    response = _post(client, edition, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(page, "colleagues-1-email") and field_errors(page, "colleagues-2-email")
    assert field_errors(page, "colleagues-3-email") and not field_errors(page, "colleagues-0-email")
    assert "Liu Again" in page and "Myself" in page  # nothing typed is lost
    assert _registrations(edition) == []


def test_the_group_needs_the_contacts_confirmation(make, client):
    edition = make.edition()
    db.session.commit()
    response = _post(client, edition, _form(COLLEAGUES[:1], group_consent=None))
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "group_consent")
    assert _registrations(edition) == []


def test_a_colleague_already_registered_gets_their_own_link_and_the_answer_is_the_same(app, make, client):
    edition = make.edition()
    known = make.registration(edition, name="Sun Li", email="sun.li@example.cn")
    db.session.commit()
    response = _post(client, edition, _form(COLLEAGUES))
    fresh = _post(app.test_client(), edition, _form(COLLEAGUES[:1], email="other.contact@example.cn"))
    assert redirect_path(response) == redirect_path(fresh)
    registrations = _registrations(edition)
    assert len(registrations) == 1 + 3 + 1  # Sun Li; Chen Jie, Liu Yang, Zhou Min; the other contact (Liu known)
    assert [r.person.email for r in registrations].count("sun.li@example.cn") == 1
    db.session.expire_all()
    link_mails = list(db.session.scalars(select(MailMessage).where(MailMessage.recipient == "sun.li@example.cn")))
    assert len(link_mails) == 1 and known.access_key in link_mails[0].body_text
    assert known.group_contact_id is None  # the earlier registration is not rewritten


def test_capacity_applies_to_each_member_of_a_group(make, client):
    from expo.visitors import policy

    edition = make.edition()
    policy.save_setup(edition, opens_at=None, closes_at=None, invitation_only=False,
                      rules=[policy.CategoryRule("trade_visitor", 2, False)])
    db.session.commit()
    assert redirect_path(_post(client, edition, _form(COLLEAGUES))).endswith("/mail-sent")
    assert [r.status for r in _registrations(edition)] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert visitor_services  # the same entry (services.register) for every member


def test_the_desk_shows_who_registered_a_colleague_and_who_invited(make, client):
    from expo.core.scoping import Scope
    from expo.visitors import invitations

    from ..conftest import login

    t = make.tenant("A", exhibitors=["Acme Chairs"], visitors=0, leads=False)
    code = invitations.exhibitor_codes(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor)[0]
    db.session.commit()
    _post(client, t.edition, _form(COLLEAGUES[:1], invitation_code=code.code))
    contact, colleague = _registrations(t.edition)
    login(client, t.users["manager"])
    page = client.get(f"/org/editions/{t.edition.id}/registrations/{colleague.id}").get_data(as_text=True)
    assert "Acme Chairs" in page and "Chen Jie" in page and 'id="group-contact"' in page


def test_hostile_group_rows_get_clear_answers(make, client):
    edition = make.edition()
    db.session.commit()
    data = _form([("Liu\x00Yang", "liu.yang@example.cn", "")])
    data.update({"colleagues-15-name": "Row sixteen", "colleagues-15-email": "sixteen@example.cn",
                 "colleagues-0-email": "x" * 300 + "@example.cn"})
    response = _post(client, edition, data)
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "colleagues-0-email")
    assert _registrations(edition) == []
    # an eleventh row is never read: ten colleagues at most
    data = _form([(f"Colleague {n}", f"c{n}@example.cn", "") for n in range(10)])
    data.update({"colleagues-10-name": "Eleventh", "colleagues-10-email": "eleventh@example.cn"})
    assert redirect_path(_post(client, edition, data)).endswith("/mail-sent")
    emails = [r.person.email for r in _registrations(edition)]
    assert len(emails) == 11 and "eleventh@example.cn" not in emails


def test_a_limited_code_says_the_same_whether_or_not_the_contact_is_registered(app, make):
    """A code is claimed before anyone is looked up: with one use left, a group answers alike whether its
    contact is already registered or not (else a one-use code would tell who is registered)."""
    from expo.core.scoping import Scope
    from expo.visitors import invitations

    t = make.tenant("A", visitors=0, leads=False)
    db.session.commit()
    known = _post(app.test_client(), t.edition, _form(email="victim@example.cn"))  # the victim registers
    assert redirect_path(known).endswith("/mail-sent")
    answers = []
    for contact in ("victim@example.cn", "stranger@example.cn"):
        code = invitations.create_code(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor, f"One use {contact}", 1)
        db.session.commit()
        response = _post(app.test_client(), t.edition, _form([("Probe", f"probe.{contact}", "")], email=contact,
                                                              invitation_code=code.code))
        answers.append((response.status_code, field_errors(response.get_data(as_text=True), "invitation_code")))
    assert answers[0] == answers[1] and answers[0][0] == 200 and answers[0][1]  # used up, in both cases


def test_colleagues_get_the_contacts_category_not_a_catch_all_rule(app, make):
    from expo.visitors import questions as qs
    from expo.visitors import rules as rs

    edition = make.edition(status="registration_open")
    qs.save_question(edition, qs.QuestionInput(key="role", kind="single", label_en="Role", label_zh="角色",
                                               choices_text="boss | Boss | 老板\nstaff | Staff | 员工"))
    rs.save_rule(edition, rs.RuleInput(name="Bosses", category="buyer", conditions=[("role", "equals", "boss")]))
    rs.save_rule(edition, rs.RuleInput(name="Everyone else", category="public", conditions=[]))
    db.session.commit()
    response = _post(app.test_client(), edition, _form(COLLEAGUES[:1], q_role="boss"))
    assert redirect_path(response).endswith("/mail-sent")
    contact, colleague = _registrations(edition)
    assert contact.category == "buyer" and contact.category_set_by == "rule"
    assert colleague.category == "buyer"  # the contact's, as the form says — not "Everyone else"'s public


def test_two_submits_of_one_new_address_at_once_end_as_one_registration_without_an_error(app, make, monkeypatch):
    """The race of a double click: both submits look the address up before either writes. The loser's INSERT
    meets the unique index; it is rolled back and run again, and answers as for a known address."""
    from expo.visitors import persons

    edition = make.edition(status="registration_open")
    db.session.commit()
    assert redirect_path(_post(app.test_client(), edition, _form())).endswith("/mail-sent")
    real, calls = persons.find_person, []

    def blind_once(organizer_id, email, phone=None):  # the other submit has not committed yet, as it were
        calls.append(email)
        return None if len(calls) == 1 else real(organizer_id, email, phone)

    monkeypatch.setattr(visitor_services, "find_person", blind_once)
    response = _post(app.test_client(), edition, _form())
    assert redirect_path(response).endswith("/mail-sent")
    assert len(calls) == 2 and len(_registrations(edition)) == 1


def test_colleagues_count_against_a_budget_of_their_own_per_address(app, make, monkeypatch):
    """A group submit mails up to ten addresses the submitter chose: its colleagues count against the
    address's group budget (GROUP_FORM_RATE_LIMIT), so the form cannot be used to mail strangers in bulk.
    Submits without colleagues do not touch it."""
    monkeypatch.setitem(app.config, "GROUP_FORM_RATE_LIMIT", "5/hour")
    edition = make.edition(status="registration_open")
    db.session.commit()
    client = app.test_client()
    three = [(f"Colleague {n}", f"c{n}@example.cn", "") for n in range(3)]
    assert redirect_path(_post(client, edition, _form(three, email="a@example.cn"))).endswith("/mail-sent")
    refused = _post(client, edition, _form([(f"More {n}", f"m{n}@example.cn", "") for n in range(3)],
                                           email="b@example.cn"))
    assert refused.status_code == 429  # 3 + 3 > 5
    assert redirect_path(_post(client, edition, _form(email="c@example.cn"))).endswith("/mail-sent")  # alone: fine
    assert len(_registrations(edition)) == 5  # a + three colleagues, c; nothing of the refused group
