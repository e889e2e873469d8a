"""Exhibitor invitation codes: each exhibitor's own link, extra codes with usage limits, the registration
recording the exhibitor, the exhibitor's counts in the portal and the organizer's report per exhibitor."""
from __future__ import annotations

import re

from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors import invitations
from expo.visitors import services as visitor_services
from expo.visitors.models import InvitationCode, Registration

from ..conftest import Tenant, csrf_token, field_errors, login, new_scan_id, redirect_path


def _form(email, **overrides) -> dict:
    data = {"name": "Zhao Lei", "email": email, "company": "Lei Trading", "category": "buyer", "consent": "y"}
    data.update(overrides)
    return data


def _register_with(client, edition, code, email, **overrides):
    url = f"/e/{edition.slug}?invite={code}"
    return client.post(url, data={**_form(email, **overrides), "csrf_token": csrf_token(client, url)})


def _own_code(client, tenant) -> str:
    """The exhibitor admin opens "Invite visitors" and reads their own link off the page."""
    login(client, tenant.users["exhibitor_admin"])
    page = client.get("/portal/invitations").get_data(as_text=True)
    match = re.search(r"\?invite=([A-Za-z0-9_-]+)", page)
    assert match, page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/invitations")})
    return match.group(1)


def test_an_exhibitors_link_records_the_exhibitor_and_the_report_counts_it(app, make, client):
    t = make.tenant("A", exhibitors=["Acme Chairs", "Best Desks"], visitors=0, leads=False)
    db.session.commit()
    code = _own_code(client, t)
    assert len(code) == 16  # 96 random bits
    page = client.get(f"/e/{t.edition.slug}?invite={code}").get_data(as_text=True)
    assert "You are invited by Acme Chairs" in page and f'value="{code}"' in page

    for n in range(3):
        response = _register_with(app.test_client(), t.edition, code, f"guest{n}@example.com")
        assert redirect_path(response).endswith("/mail-sent")
    registrations = list(db.session.scalars(select(Registration).order_by(Registration.id)))
    assert {(r.invited_by_exhibitor_id, r.source) for r in registrations} == {(t.exhibitor.id, "exhibitor_invitation")}

    # one invitee comes to the show; one cancels
    gate = make.user("onsite", t.organizer)
    from expo.onsite import services as onsite

    outcome = onsite.record_scan(gate, code=visitor_services.badge_code(registrations[0]), kind="checkin",
                                 client_scan_id=new_scan_id(), edition_id=t.edition.id, gate="North")
    assert outcome.result == "ok"
    visitor_services.cancel_registration(registrations[2])
    db.session.commit()

    login(client, t.users["exhibitor_admin"])
    page = client.get("/portal/invitations").get_data(as_text=True)
    counts = re.findall(r'class="kpi-value[^"]*"[^>]*>\s*([0-9]+)', page)
    assert counts[:3] == ["3", "2", "1"], counts

    login(client, t.users["sales"])
    page = client.get(f"/org/editions/{t.edition.id}/invitations").get_data(as_text=True)
    row = re.search(rf'id="exhibitor-{t.exhibitor.id}">(.*?)</tr>', page, re.S).group(1)
    assert "Acme Chairs" in row
    assert re.findall(r'class="text-end (?:registered|confirmed|checked-in)">([0-9]+)', row) == ["3", "2", "1"]
    assert "Best Desks" not in page  # no code, no invitee: not listed


def test_an_exhibitor_creates_codes_with_a_usage_limit_and_switches_them_off(app, make, client):
    t = make.tenant("A", visitors=0, leads=False)
    db.session.commit()
    login(client, t.users["exhibitor_admin"])
    url = "/portal/invitations"
    response = client.post(url, data={"label": "", "max_uses": "0", "csrf_token": csrf_token(client, url)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and field_errors(page, "label") and field_errors(page, "max_uses")
    response = client.post(url, data={"label": "Newsletter March", "max_uses": "1",
                                      "csrf_token": csrf_token(client, url)})
    assert redirect_path(response) == url
    code = db.session.scalar(select(InvitationCode).where(InvitationCode.label == "Newsletter March"))
    assert code.exhibitor_id == t.exhibitor.id and code.max_uses == 1
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "invitation_code.created"))

    visitor = app.test_client()
    assert redirect_path(_register_with(visitor, t.edition, code.code, "first@example.com")).endswith("/mail-sent")
    # used up: a clear error beside the field, what was typed kept, nothing stored
    response = _register_with(app.test_client(), t.edition, code.code, "second@example.com")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "used as often as it may" in page and "second@example.com" in page
    assert db.session.scalar(select(Registration.id).join(Registration.person)
                             .where(Registration.invitation_code_id == code.id).offset(1)) is None

    # switched off: the link no longer works
    other = invitations.create_code(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor, "Fair flyer", None)
    db.session.commit()
    response = client.post("/portal/invitations/switch", data={"code_id": other.id, "active": "no",
                                                               "csrf_token": csrf_token(client, url)})
    assert redirect_path(response) == url
    db.session.expire_all()
    assert other.active is False
    response = _register_with(app.test_client(), t.edition, other.code, "third@example.com")
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "invitation_code")


def test_an_exhibitor_cannot_touch_another_exhibitors_code(make, client):
    t = make.tenant("A", exhibitors=2, visitors=0, leads=False)
    theirs_exhibitor = t.exhibitors[1][0]
    theirs = invitations.create_code(Scope(t.organizer.id, theirs_exhibitor.id), theirs_exhibitor, "Theirs", None)
    db.session.commit()
    login(client, t.users["exhibitor_admin"])
    for code_id in (theirs.id, "x", "99999999999999", "\x00"):
        client.post("/portal/invitations/switch", data={"code_id": code_id, "active": "no",
                                                        "csrf_token": csrf_token(client, "/portal/invitations")})
    db.session.expire_all()
    assert theirs.active is True
    page = client.get("/portal/invitations").get_data(as_text=True)
    assert theirs.code not in page


def test_a_guessed_or_foreign_code_is_refused_with_the_typed_values_kept(app, make, client):
    a = make.tenant("A", visitors=0, leads=False)
    b = make.tenant("B", visitors=0, leads=False)
    b_code = invitations.exhibitor_codes(Scope(b.organizer.id, b.exhibitor.id), b.exhibitor)[0]
    db.session.commit()
    for guess in (b_code.code, "A" * 16, "x" * 500, "' OR 1=1 --", "码" * 8):
        url = f"/e/{a.edition.slug}"
        response = client.post(url, data={**_form("guess@example.com", invitation_code=guess),
                                          "csrf_token": csrf_token(client, url)})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, guess
        assert field_errors(page, "invitation_code"), guess
        assert "Zhao Lei" in page
    assert db.session.scalar(select(Registration.id)) is None
    assert invitations.find_code(a.edition, b_code.code) is None


def test_every_exhibitor_gets_one_own_code(make):
    t: Tenant = make.tenant("A", visitors=0, leads=False)
    scope = Scope(t.organizer.id, t.exhibitor.id)
    first = invitations.exhibitor_codes(scope, t.exhibitor)
    again = invitations.exhibitor_codes(scope, t.exhibitor)
    assert [c.id for c in first] == [c.id for c in again] and first[0].is_default


def test_a_withdrawn_exhibitors_codes_stop_working(app, make, client):
    from expo.exhibitors import services as exhibitor_services

    t = make.tenant("A", visitors=0, leads=False)
    code = invitations.exhibitor_codes(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor)[0]
    exhibitor_services.set_status(t.exhibitor, "cancelled", actor_id=t.users["owner"].id)
    db.session.commit()
    assert "invited by" not in client.get(f"/e/{t.edition.slug}?invite={code.code}").get_data(as_text=True)
    response = _register_with(client, t.edition, code.code, "late@example.com")
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "invitation_code")


def test_a_usage_limit_holds_under_concurrent_submits(app, make):
    """Eight visitors submit the same code (limit 3) at the same moment: three registrations, five clear refusals."""
    import threading

    from expo.core.models import Edition
    from expo.core.services import ServiceError

    t = make.tenant("A", visitors=0, leads=False)
    code = invitations.create_code(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor, "Limited", 3)
    db.session.commit()
    edition_id, text = t.edition.id, code.code
    db.session.remove()
    barrier = threading.Barrier(8)
    results, errors = [], []

    def submit(n):
        with app.app_context():
            try:
                barrier.wait(timeout=20)
                edition = db.session.get(Edition, edition_id)
                visitor_services.register(edition, visitor_services.RegistrationData(
                    name=f"Racer {n}", email=f"racer{n}@example.com", category="buyer", consent=True,
                    invitation_code=text), send_confirmation=False)
                db.session.commit()
                results.append("registered")
            except ServiceError as refused:
                db.session.rollback()
                results.append(refused.field)
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(results) == ["invitation_code"] * 5 + ["registered"] * 3
    assert db.session.scalar(select(InvitationCode.uses).where(InvitationCode.code == text)) == 3


def test_the_organizers_own_codes_admit_to_an_invitation_only_edition_without_an_exhibitor(app, make, client):
    """VIP and press invitations come from the organizer: staff who set up registration create a code on the
    invitations page; in invitation-only mode it admits, records no exhibitor, counts on the page, and stops
    working when switched off. Sales read the page but create nothing."""
    from expo.visitors import policy

    t = make.tenant("A", visitors=0, leads=False)
    policy.save_setup(t.edition, opens_at=None, closes_at=None, invitation_only=True, rules=[])
    db.session.commit()
    page_url = f"/org/editions/{t.edition.id}/invitations"

    login(client, t.users["sales"])
    page = client.get(page_url).get_data(as_text=True)
    assert "Create code" not in page
    title = page[page.index("<title>"):page.index("</title>")]
    assert "<" not in title[len("<title>"):] and "Invitations" in title  # the title is words, not the page
    assert page.count('id="organizer-codes-title"') == 1
    assert client.post(page_url, data={"label": "VIP", "csrf_token": csrf_token(client, page_url)}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, page_url)})

    login(client, t.users["manager"])
    response = client.post(page_url, data={"label": "", "csrf_token": csrf_token(client, page_url)})
    assert field_errors(response.get_data(as_text=True), "label")  # a code needs a name; nothing stored
    assert db.session.scalar(select(InvitationCode.id).where(InvitationCode.exhibitor_id.is_(None))) is None
    response = client.post(page_url, data={"label": "VIP buyers 贵宾", "max_uses": "2",
                                           "csrf_token": csrf_token(client, page_url)})
    assert redirect_path(response) == page_url
    code = db.session.scalar(select(InvitationCode).where(InvitationCode.exhibitor_id.is_(None)))
    assert code.label == "VIP buyers 贵宾" and code.max_uses == 2 and code.edition_id == t.edition.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "invitation_code.created",
                                                      AuditEntry.object_id == code.id)).user_id == t.users["manager"].id

    visitor = app.test_client()
    url = f"/e/{t.edition.slug}"
    refused = visitor.post(url, data={**_form("nocode@example.com"), "csrf_token": csrf_token(visitor, url)})
    assert refused.status_code == 200 and count_registrations(t) == 0  # invitation only: a code is needed
    assert redirect_path(_register_with(visitor, t.edition, code.code, "vip@example.com")).endswith("/mail-sent")
    vip = db.session.scalar(select(Registration).where(Registration.edition_id == t.edition.id))
    assert vip.invitation_code_id == code.id and vip.invited_by_exhibitor_id is None and vip.source == "online"
    page = client.get(page_url).get_data(as_text=True)
    row = page[page.index(f'id="code-{code.id}"'):]
    assert re.search(r'<td class="text-end">1</td>', row[:row.index("</tr>")])  # registered with it: 1
    assert "1 / 2" in row[:row.index("</tr>")]

    switch = client.post(f"{page_url}/switch", data={"code_id": str(code.id), "active": "no",
                                                      "csrf_token": csrf_token(client, page_url)})
    assert redirect_path(switch) == page_url
    db.session.refresh(code)
    assert not code.active
    _register_with(visitor, t.edition, code.code, "late@example.com")
    assert count_registrations(t) == 1  # a switched-off code admits nobody
    other = make.tenant("B", visitors=0, leads=False)
    db.session.commit()
    foreign = client.post(f"/org/editions/{other.edition.id}/invitations/switch",
                          data={"code_id": str(code.id), "active": "yes", "csrf_token": csrf_token(client, page_url)})
    assert foreign.status_code == 404
    db.session.refresh(code)
    assert not code.active


def count_registrations(t) -> int:
    return len(db.session.scalars(select(Registration.id).where(Registration.edition_id == t.edition.id)).all())
