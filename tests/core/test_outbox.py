"""The outbox page lists every mail, newest first, a page at a time."""
from __future__ import annotations

from expo.core import services as core
from expo.extensions import db

from ..conftest import Browser


def test_outbox_pages(app, make):
    organizer = make.organizer()
    for n in range(30):
        core.queue_mail(organizer.id, f"visitor{n}@example.com", f"Subject {n:02d}", "Body")
    owner = make.user("owner", organizer)
    db.session.commit()
    browser = Browser(app, owner)
    first = browser.get("/org/outbox").get_data(as_text=True)
    assert "Subject 29" in first and "Subject 05" in first and "Subject 04" not in first
    assert "1–25 of 30" in first
    second = browser.get("/org/outbox?page=2").get_data(as_text=True)
    assert "Subject 04" in second and "Subject 05" not in second
