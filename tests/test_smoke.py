"""One thin path through the whole cycle over HTTP: register, badge, scan, lead, report."""
import re

from expo.core import services as core
from expo.core.scoping import Scope
from expo.extensions import db

from .conftest import csrf_token, login, new_scan_id


def test_registration_to_lead_path(app, client, make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    staff = make.user("booth_staff", exhibitor=exhibitor)
    db.session.commit()

    token = csrf_token(client, f"/e/{edition.slug}")
    response = client.post(f"/e/{edition.slug}", data={
        "csrf_token": token, "name": "王小明", "email": "xiaoming@example.cn", "phone": "+86 138 0000 1111",
        "company": "深圳宏达家具有限公司", "job_title": "采购经理", "country": "CN", "category": "buyer",
        "consent": "y", "share_with_exhibitors": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    # the form answers "check your inbox"; the badge page is the link in the confirmation mail
    [mail] = core.outbox(Scope(edition.organizer_id))
    page = client.get(re.search(r"/r/[\w-]+", mail.body_text).group(0)).get_data(as_text=True)
    code = re.search(r'id="badge-code" class="code">([A-Z2-7]+)<', page).group(1)

    _token, clear = core.create_api_token(staff, "scanner")
    db.session.commit()
    answer = client.post("/api/v1/scans", json={"code": code, "kind": "lead", "client_scan_id": new_scan_id()},
                         headers={"Authorization": f"Bearer {clear}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["result"] == "ok"
    assert answer.json["visitor"]["name"] == "王小明"

    login(client, staff)
    leads = client.get("/portal/leads").get_data(as_text=True)
    assert "王小明" in leads
