"""The Predictions page, "Compute now" (a Celery task, eager in tests), the JSON API with token auth and the
`expo predictions` CLI export, keyed by the external references of imported rows; hostile input; the backtest on
the demo history."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from expo.cli import main
from expo.core import services as core
from expo.core.scoping import Scope
from expo.extensions import db
from expo.postshow import backtest, predictions
from expo.postshow.models import PredictionRun

from ..conftest import login
from .test_predictions import NOW, generated_history


@pytest.fixture
def history(make, monkeypatch):
    organizer, show, editions, satisfaction = generated_history(make, editions=4, companies=90)
    monkeypatch.setattr(predictions, "company_satisfaction", lambda scope, edition_id: satisfaction.get(edition_id, {}))
    manager = make.user("manager", organizer, email="manager@gen.example.com")
    sales = make.user("sales", organizer, email="sales@gen.example.com")
    owner = make.user("owner", organizer, email="owner@gen.example.com")
    db.session.commit()
    return organizer, editions, manager, sales, owner


def test_page_compute_now_and_scores_with_reasons(client, history):
    organizer, editions, manager, _sales, _owner = history
    last = editions[-1]
    login(client, manager.email)
    page = client.get(f"/org/editions/{last.id}/predictions").get_data(as_text=True)
    assert "No predictions for this edition yet." in page and "Compute now" in page
    token = client.get(f"/org/editions/{last.id}/predictions").get_data(as_text=True).split(
        'name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"/org/editions/{last.id}/predictions/compute", data={"csrf_token": token,
                                                                                 "kind": "exhibitor"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/org/editions/{last.id}/predictions?kind=exhibitor")
    run = db.session.scalar(select(PredictionRun).where(PredictionRun.edition_id == last.id))
    assert run.status == "done", run.message
    page = client.get(f"/org/editions/{last.id}/predictions").get_data(as_text=True)
    assert 'id="prediction-scores"' in page and "Company " in page
    assert "of the last" in page  # a reason in words
    assert 'id="backtest-auc"' in page and 'id="calibration-data"' in page
    chart = json.loads(page.split('id="calibration-data">')[1].split("</script>")[0])
    assert chart["series"][0]["data"] and chart["type"] == "line"
    # find one company by its external reference
    page = client.get(f"/org/editions/{last.id}/predictions?ref=C-1").get_data(as_text=True)
    table = page.split('id="prediction-scores"')[1].split("</table>")[0]
    assert table.count("<tr>") == 2 and "C-1<" in table  # the header and the one company
    # the visitors' tab: computed too
    response = client.post(f"/org/editions/{last.id}/predictions/compute", data={"csrf_token": token,
                                                                                 "kind": "visitor"})
    page = client.get(f"/org/editions/{last.id}/predictions?kind=visitor").get_data(as_text=True)
    assert "Chance of coming back" in page and "Person " in page


def test_sales_read_but_do_not_compute(client, history):
    _organizer, editions, _manager, sales, _owner = history
    login(client, sales.email)
    page = client.get(f"/org/editions/{editions[-1].id}/predictions").get_data(as_text=True)
    assert "Compute now" not in page and "No predictions for this edition yet." in page


def test_too_little_history_is_a_message(client, make):
    organizer = make.organizer()
    edition = make.edition(organizer)
    manager = make.user("manager", organizer)
    db.session.commit()
    run = backtest.compute(edition, "exhibitor", now=NOW)
    db.session.commit()
    assert run.status == "too_little_history"
    login(client, manager.email)
    page = client.get(f"/org/editions/{edition.id}/predictions").get_data(as_text=True)
    assert "Too little history to learn from" in page and 'id="backtest-empty"' in page


def test_hostile_query_strings(client, history):
    _organizer, editions, manager, _sales, _owner = history
    backtest.compute(editions[-1], "exhibitor", now=NOW)
    db.session.commit()
    login(client, manager.email)
    base = f"/org/editions/{editions[-1].id}/predictions"
    for query in ("?page=99999999999999999999&per_page=abc", "?kind=%3Cscript%3E", "?ref=" + "x" * 5000,
                  "?page=-3&kind=visitor", "?ref=%E4%B8%AD"):
        assert client.get(base + query).status_code == 200, query
    assert client.get(base + "?ref=%00%00").status_code == 400  # the app refuses NUL bytes everywhere
    assert client.get("/org/editions/99999999999999999999/predictions").status_code == 404


def _api(client, path, token):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_api_with_token_keyed_by_external_refs(client, history, make):
    organizer, editions, _manager, sales, owner = history
    last = editions[-1]
    backtest.compute(last, "exhibitor", now=NOW)
    backtest.compute(last, "visitor", now=NOW)
    _token, clear = core.create_api_token(sales, "erp")
    other = make.tenant("Z", tokens=True)
    db.session.commit()
    base = f"/api/v1/editions/{last.id}/predictions"
    body = _api(client, f"{base}/exhibitors?limit=5", clear).get_json()
    assert body["kind"] == "exhibitor" and len(body["items"]) == 5
    assert body["run"]["backtest"]["auc"] is not None and body["run"]["backtest"]["baseline_auc"] is not None
    item = body["items"][0]
    assert item["company_ref"].startswith("C-") and item["company_id"] and 0 <= item["probability"] <= 1
    assert item["reasons"] and isinstance(item["reasons"][0], str)
    assert [i["probability"] for i in body["items"]] == sorted((i["probability"] for i in body["items"]), reverse=True)
    one = _api(client, f"{base}/exhibitors?ref={item['company_ref']}", clear).get_json()
    assert [i["company_id"] for i in one["items"]] == [item["company_id"]]
    if item["exhibitor_ref"]:  # the exhibitor row's reference names the same company
        assert _api(client, f"{base}/exhibitors?ref={item['exhibitor_ref']}", clear).get_json()["items"][0][
            "company_id"] == item["company_id"]
    zh = _api(client, f"{base}/exhibitors?id={item['company_id']}&lang=zh_CN", clear).get_json()
    assert zh["items"][0]["company_id"] == item["company_id"]
    visitors = _api(client, f"{base}/visitors?limit=3", clear).get_json()
    assert visitors["items"] and visitors["items"][0]["person_ref"].startswith("P-")
    assert "name" not in visitors["items"][0] and "email" not in json.dumps(visitors["items"][0])
    # errors: unknown reference, bad numbers, bad language, no token, another organizer's edition
    assert _api(client, f"{base}/exhibitors?ref=NOPE", clear).status_code == 404
    assert _api(client, f"{base}/exhibitors?ref=%00", clear).status_code == 400
    assert _api(client, f"{base}/exhibitors?limit=100000", clear).status_code == 400
    assert _api(client, f"{base}/exhibitors?id=abc", clear).status_code == 400
    assert _api(client, f"{base}/exhibitors?lang=fr", clear).status_code == 400
    assert client.get(f"{base}/exhibitors").status_code == 401
    assert _api(client, f"{base}/exhibitors", "expo_wrong").status_code == 401
    foreign = f"/api/v1/editions/{other.edition.id}/predictions/exhibitors"
    assert _api(client, foreign, clear).status_code == 404
    assert _api(client, f"{base}/exhibitors", other.tokens["owner"][1]).status_code == 404
    assert _api(client, f"{base}/exhibitors", other.tokens["onsite"][1]).status_code == 403


def test_api_before_any_run(client, history):
    _organizer, editions, _manager, _sales, owner = history
    _token, clear = core.create_api_token(owner, "erp")
    db.session.commit()
    body = _api(client, f"/api/v1/editions/{editions[-1].id}/predictions/visitors", clear).get_json()
    assert body == {"edition_id": editions[-1].id, "kind": "visitor", "run": None, "latest_status": None,
                    "message": None, "items": []}


def test_cli_export_csv_and_json(app, history, make):
    _organizer, editions, _manager, _sales, _owner = history
    last = editions[-1]
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["predictions", str(last.id), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {"company_id", "company_ref", "exhibitor_id", "exhibitor_ref", "probability", "reasons"} <= set(rows[0])
    assert rows[0]["company_ref"].startswith("C-") and rows[0]["reasons"]
    assert "AUC" in result.stderr
    result = runner.invoke(main, ["predictions", last.slug, "--kind", "visitor", "--stored"])
    assert result.exit_code != 0 and "No predictions stored" in result.output
    result = runner.invoke(main, ["predictions", str(last.id), "--kind", "visitor", "--lang", "zh_CN"])
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert table[0] == ["person_id", "person_ref", "registration_id", "registration_ref", "visitor_category",
                        "probability", "reasons"]
    assert len(table) > 10 and table[1][1].startswith("P-")
    assert runner.invoke(main, ["predictions", "99999999999999999999"]).exit_code != 0
    assert "No such edition" in runner.invoke(main, ["predictions", "no-such-slug"]).output
    lonely = make.edition(make.organizer())
    db.session.commit()
    result = runner.invoke(main, ["predictions", str(lonely.id)])
    assert result.exit_code != 0 and "Too little history" in result.output


def test_backtest_on_the_demo_history(make):
    """The demo with four editions: the stored runs' backtest gives an AUC in [0, 1] (the demo's own
    predictions_demo computes them)."""
    from expo import demo
    from expo.core.models import Edition

    demo.generate(visitors=120, exhibitors=14, editions=4, now=datetime(2027, 3, 1, 12, tzinfo=timezone.utc))
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    runs = {r.kind: r for r in db.session.scalars(select(PredictionRun).where(PredictionRun.edition_id == live.id))}
    assert set(runs) == {"exhibitor", "visitor"}
    for run in runs.values():
        assert run.status == "done", run.message
        result = run.metrics["backtest"]
        assert result["editions"], result
        assert 0 <= result["auc"] <= 1 and 0 <= result["baseline_auc"] <= 1 and 0 <= result["brier"] <= 1
    assert predictions.scores(Scope(live.organizer_id), live, "visitor")
