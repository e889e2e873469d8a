"""The organizer's registration page: details, check-ins, reissue, cancel, on-site badge printing."""
import uuid

import pypdfium2
import zxingcpp

from expo.core.models import AuditEntry, Organizer
from expo.extensions import db
from expo.onsite import services as onsite
from expo.visitors import services as visitors

from ..conftest import Browser, csrf_token, login


def _decode_pdf(data: bytes) -> str:
    image = pypdfium2.PdfDocument(data)[0].render(scale=3).to_pil()
    return zxingcpp.read_barcodes(image)[0].text


def _staff(make, role, edition):
    return make.user(role, db.session.get(Organizer, edition.organizer_id))


def _scan(user, code, edition):
    return onsite.record_scan(user, code=code, kind="checkin", client_scan_id=str(uuid.uuid4()),
                              edition_id=edition.id)


def test_registration_page_shows_person_consent_and_checkins(app, client, make):
    edition = make.edition()
    onsite_user = _staff(make, "onsite", edition)
    registration = make.registration(edition, name="陈静", company="广州百利纺织有限公司")
    _scan(onsite_user, visitors.badge_code(registration), edition)
    db.session.commit()
    login(client, onsite_user)
    page = client.get(f"/org/editions/{edition.id}/registrations/{registration.id}").get_data(as_text=True)
    assert "陈静" in page and "广州百利纺织有限公司" in page
    assert "version 1" in page
    assert "Not checked in yet." not in page


def test_reissued_badge_revokes_the_old_code_and_prints_the_new_one(app, client, make):
    edition = make.edition()
    desk = _staff(make, "onsite", edition)
    registration = make.registration(edition)
    old_code = visitors.badge_code(registration)
    db.session.commit()
    login(client, desk)
    url = f"/org/editions/{edition.id}/registrations/{registration.id}"
    response = client.post(f"{url}/reissue", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.refresh(registration)
    assert registration.badge_serial == 2
    assert _scan(desk, old_code, edition).reason == "revoked"
    pdf = client.get(f"{url}/badge.pdf")
    assert pdf.mimetype == "application/pdf"
    new_code = _decode_pdf(pdf.data)
    assert new_code == visitors.badge_code(registration) != old_code
    assert _scan(desk, new_code, edition).result == "ok"
    actions = {e.action for e in db.session.scalars(db.select(AuditEntry).where(AuditEntry.user_id == desk.id))}
    assert {"badge.reissued", "badge.printed"} <= actions


def test_cancelled_registration_is_refused_at_the_gate(app, client, make):
    edition = make.edition()
    desk = _staff(make, "manager", edition)
    registration = make.registration(edition)
    code = visitors.badge_code(registration)
    db.session.commit()
    login(client, desk)
    url = f"/org/editions/{edition.id}/registrations/{registration.id}"
    assert client.post(f"{url}/cancel", data={"csrf_token": csrf_token(client, url)}).status_code == 302
    db.session.refresh(registration)
    assert registration.status == "cancelled"
    assert _scan(desk, code, edition).reason == "revoked"


def test_registration_of_another_edition_is_not_found_under_this_one(app, client, make):
    edition = make.edition()
    other = make.edition(db.session.get(Organizer, edition.organizer_id))  # same organizer, another show
    desk = _staff(make, "owner", edition)
    foreign = make.registration(other)
    db.session.commit()
    login(client, desk)
    assert client.get(f"/org/editions/{edition.id}/registrations/{foreign.id}").status_code == 404


def test_the_desk_reinstates_a_cancelled_registration_and_its_badge_admits_again(app, make):
    edition = make.edition()
    registration = make.registration(edition, name="陈静")
    manager = make.user("manager", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    desk = f"/org/editions/{edition.id}/registrations/{registration.id}"
    browser = Browser(app, manager)
    assert browser.post(desk + "/cancel").status_code == 302
    page = browser.get(desk).get_data(as_text=True)
    assert "Reinstate (the badge admits again)" in page
    assert browser.post(desk + "/status", data={"status": "confirmed"}).status_code == 302
    db.session.expire_all()
    assert registration.status == "confirmed"
    assert onsite.verify_code(edition, visitors.badge_code(registration)) == (registration, None)
    # an illegal move is refused with a message, nothing changes
    response = browser.post(desk + "/status", data={"status": "pending"}, follow_redirects=True)
    assert "cannot change to" in response.get_data(as_text=True)
    db.session.expire_all()
    assert registration.status == "confirmed"
