"""Two writers qualifying one lead at the same moment — a phone's offline queue syncing its PATCH while the
exhibitor admin saves the lead page — change it one after the other (the lead's row is locked): never an
answer stored twice. PostgreSQL only (SQLite has one writer at a time anyway)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from expo.core import services as core
from expo.extensions import db
from expo.leads import questions as lq
from expo.leads.models import LeadAnswer

from ..conftest import Browser


@pytest.fixture
def pg(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks: PostgreSQL only (EXPO_TEST_DATABASE_URL)")


def test_simultaneous_patches_and_page_saves_never_duplicate_answers(app, make, pg, monkeypatch):
    t = make.tenant("A", tokens=True)
    admin = t.users["exhibitor_admin"]
    lq.save_question(t.exhibitor, lq.QuestionInput("multi", "Interests", "兴趣",
                                                   "sofas | Sofas | 沙发\nbeds | Beds | 床\ndesks | Desks | 书桌"),
                     actor_id=admin.id)
    lq.save_question(t.exhibitor, lq.QuestionInput("single", "Budget", "预算", "low | Low | 低\nhigh | High | 高"),
                     actor_id=admin.id)
    lead_id = t.lead.id
    token = core.create_api_token(admin, "race")[1]
    db.session.commit()
    pages = [Browser(app, admin) for _ in range(2)]
    api = [app.test_client() for _ in range(2)]
    db.session.remove()

    # Widen the window between reading a lead's answers and writing them: without the lock every writer reads
    # "no answers yet" and inserts its rows.
    real = lq.answers_of

    def slow_answers_of(ids):
        found = real(ids)
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.3)
        return found

    monkeypatch.setattr(lq, "answers_of", slow_answers_of)

    for round_, (interests, budget) in enumerate([(["sofas", "beds"], "high"), (["desks"], "low")]):
        barrier = threading.Barrier(4)
        statuses, errors = [], []

        def patch(client):
            try:
                barrier.wait(timeout=10)
                response = client.patch(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {token}"},
                                        json={"rating": "hot", "answers": {"interests": interests, "budget": budget}})
                statuses.append(response.status_code)
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                errors.append(repr(error))

        def save(browser):
            try:
                from werkzeug.datastructures import MultiDict

                barrier.wait(timeout=10)
                response = browser.client.post(f"/portal/leads/{lead_id}", data=MultiDict(
                    [("csrf_token", browser.token), ("rating", "hot"), ("notes", f"round {round_}"),
                     ("q_budget", budget)] + [("q_interests", v) for v in interests]))
                statuses.append(response.status_code)
            except Exception as error:  # noqa: BLE001
                errors.append(repr(error))

        for browser in pages:
            from ..conftest import csrf_token

            browser.token = csrf_token(browser.client, f"/portal/leads/{lead_id}")
        threads = [threading.Thread(target=patch, args=(c,)) for c in api] + \
                  [threading.Thread(target=save, args=(b,)) for b in pages]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sorted(statuses) == [200, 200, 302, 302], statuses
        with app.app_context():
            rows = db.session.execute(select(LeadAnswer.question_key, LeadAnswer.value, func.count())
                                      .where(LeadAnswer.lead_id == lead_id)
                                      .group_by(LeadAnswer.question_key, LeadAnswer.value)).all()
            assert sorted((key, value) for key, value, _n in rows) == sorted(
                [("interests", v) for v in interests] + [("budget", budget)])
            assert all(n == 1 for _k, _v, n in rows), rows
            db.session.remove()
