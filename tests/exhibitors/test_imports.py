"""Company and exhibitor imports (name normalisation), then leads and check-ins of a past edition."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core.imports import company_key
from expo.exhibitors.models import Company, Exhibitor
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite.models import Scan

from ..conftest import count
from ..visitors.test_imports import run, write


@pytest.mark.parametrize("a, b", [
    ("深圳市华星家具有限公司", "深圳市华星家具股份有限公司"),
    ("深圳市华星家具有限公司", "深圳市华星家具"),
    ("ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．", "Acme Co., Ltd."),
    ("Acme Co., Ltd.", "ACME LTD"),
    ("Acme Co., Ltd.", "acme inc."),
    ("Büro Design GmbH", "büro design"),
    ("Huaxing Furniture Co.,Ltd", "Huaxing  Furniture Company Limited"),
])
def test_company_name_variants_are_one_company(a, b):
    assert company_key(a) == company_key(b)


@pytest.mark.parametrize("a, b", [("Hamburg Messe", "Hamb Messe"), ("华星家具有限公司", "华美家具有限公司"),
                                  ("Acme Inc", "Acme Tools Inc")])
def test_different_companies_stay_apart(a, b):
    assert company_key(a) != company_key(b)


def test_companies_dedupe_on_normalised_names_and_ambiguous_names(make, tmp_path):
    org = make.organizer()
    db.session.add_all([Company(organizer_id=org.id, name="华星家具有限公司"),
                        Company(organizer_id=org.id, name="Twin Ltd"), Company(organizer_id=org.id, name="TWIN Inc.")])
    db.session.commit()
    text = ("公司编号,公司名称,国家,网址\n"
            "C-1,华星家具股份有限公司,CN,https://hx.example.cn\n"
            "C-2,\"Twin Co., Ltd.\",DE,\n"
            "C-3,Neue Möbel GmbH,DE,\n"
            "C-4,,DE,\n")
    report = run(org, write(tmp_path, text), kind="companies")
    assert report.counts == {**report.counts, "matched": 1, "ambiguous": 1, "new": 1, "bad": 1}
    huaxing = db.session.scalar(select(Company).where(Company.external_ref == "C-1"))
    assert huaxing.name == "华星家具有限公司" and huaxing.website == "https://hx.example.cn"
    before = count(Company)
    again = run(org, write(tmp_path, text), kind="companies")
    assert again.counts["written"] == 0 and count(Company) == before


def _history(make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    owner = make.user("owner", org)
    exhibitors = ("展商编号,公司编号,公司名称,展馆,展位号,面积,价格,阶段\n"
                  "EX-1,C-1,华星家具有限公司,3,3A21,36,48000,已参展\n"
                  "EX-2,C-2,\"Acme Co., Ltd.\",1,1B02,18.5,\"21,000\",paid\n"
                  "EX-3,C-3,Broken,1,1B03,-5,1,paid\n"
                  "EX-4,C-4,Broken2,1,1B04,9,1,flying\n")
    regs = ("报名编号,姓名,邮箱,观众类型\nR-1,王伟,wang@example.cn,采购商\nR-2,Anna,anna@example.de,buyer\n")
    leads = ("线索编号,展商编号,公司名称,观众邮箱,报名编号,评级,备注\n"
             "L-1,EX-1,,wang@example.cn,,热,要报价\n"
             "L-2,,ACME LTD,,R-2,B,\n"
             "L-3,,Unknown Co,,R-2,A,\n"
             "L-4,EX-1,,nobody@example.cn,,A,\n")
    checkins = ("签到编号,报名编号,签到时间,入口\nCI-1,R-1,2024-03-19 09:12,North\nCI-2,R-1,2024-03-19 15:00,North\n"
                "CI-3,R-2,2024-03-20 10:00,\nCI-4,R-9,2024-03-20 10:00,\nCI-5,R-2,not a time,\n")
    files = {kind: write(tmp_path, text, name=f"{kind}.csv") for kind, text in
             (("exhibitors", exhibitors), ("registrations", regs), ("leads", leads), ("checkins", checkins))}
    return org, edition, owner, files


def test_a_past_edition_imports_exhibitors_registrations_leads_checkins_and_reruns_change_nothing(make, tmp_path):
    org, edition, owner, files = _history(make, tmp_path)
    reports = {kind: run(org, path, kind=kind, edition=edition, user=owner) for kind, path in files.items()}
    assert (reports["exhibitors"].counts["new"], reports["exhibitors"].counts["bad"]) == (2, 2)
    ex = db.session.scalar(select(Exhibitor).where(Exhibitor.external_ref == "EX-2"))
    assert (ex.hall, ex.stand, float(ex.area_m2), float(ex.price), ex.status) == ("1", "1B02", 18.5, 21000.0, "paid")
    assert ex.company.external_ref == "C-2"
    assert (reports["leads"].counts["new"], reports["leads"].counts["bad"]) == (2, 2)
    lead = db.session.scalar(select(Lead).where(Lead.external_ref == "L-1"))
    assert lead.rating == "hot" and lead.notes == "要报价"
    assert db.session.scalar(select(Lead.rating).where(Lead.external_ref == "L-2")) == "warm"
    assert (reports["checkins"].counts["new"], reports["checkins"].counts["bad"]) == (3, 2)
    scans = db.session.scalars(select(Scan).order_by(Scan.scanned_at)).all()
    assert [(s.result, s.external_ref) for s in scans] == [("ok", "CI-1"), ("duplicate", "CI-2"), ("ok", "CI-3")]
    assert scans[0].admitted_on.isoformat() == "2024-03-19" and scans[0].user_id == owner.id
    counts = {m: count(m) for m in (Company, Exhibitor, Lead, Scan)}
    for kind, path in files.items():
        again = run(org, path, kind=kind, edition=edition, user=owner)
        assert again.counts["written"] == 0 and again.counts["new"] == 0, kind
    assert {m: count(m) for m in (Company, Exhibitor, Lead, Scan)} == counts


def test_a_participation_reference_twice_in_the_file_is_reported_not_a_crash(make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    text = "展商编号,公司名称\nEX-9,Alpha\nEX-9,Beta\nEX-10,Gamma\n"
    dry = run(org, write(tmp_path, text, name="ex.csv"), kind="exhibitors", edition=edition, write_=False)
    assert (dry.counts["new"], dry.counts["bad"]) == (2, 1)
    report = run(org, write(tmp_path, text, name="ex.csv"), kind="exhibitors", edition=edition)
    assert (report.counts["new"], report.counts["bad"]) == (2, 1)
    assert "used twice" in report.samples["bad"][0]["reason"] and report.samples["bad"][0]["line"] == 3
    alpha = db.session.scalar(select(Exhibitor).where(Exhibitor.external_ref == "EX-9"))
    assert alpha.company.name == "Alpha" and count(Exhibitor) == 2


def test_a_lead_reference_twice_in_the_file_is_reported_not_a_crash(make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    run(org, write(tmp_path, "展商编号,公司名称\nEX-9,Alpha\n", name="ex.csv"), kind="exhibitors", edition=edition)
    run(org, write(tmp_path, "报名编号,姓名,邮箱\nREG-1,A,a@example.cn\nREG-2,B,b@example.cn\n", name="regs.csv"),
        kind="registrations", edition=edition)
    text = "线索编号,展商编号,报名编号\nL-1,EX-9,REG-1\nL-1,EX-9,REG-2\n"
    dry = run(org, write(tmp_path, text, name="leads.csv"), kind="leads", edition=edition, write_=False)
    assert (dry.counts["new"], dry.counts["bad"]) == (1, 1)
    report = run(org, write(tmp_path, text, name="leads.csv"), kind="leads", edition=edition)
    assert (report.counts["new"], report.counts["bad"]) == (1, 1)
    assert "used twice" in report.samples["bad"][0]["reason"]
    assert count(Lead) == 1


def test_check_in_references_are_per_edition(make, tmp_path):
    """A source system numbering check-ins from 1 in every edition: the same reference in two editions."""
    from datetime import timedelta

    org = make.organizer()
    owner = make.user("owner", org)
    first = make.edition(org)
    editions = [first, make.edition(org, show=first.show, starts_on=first.starts_on - timedelta(days=365))]
    for n, edition in enumerate(editions):
        run(org, write(tmp_path, "报名编号,姓名,邮箱\nR-1,A,a@example.cn\n", name=f"r{n}.csv"),
            kind="registrations", edition=edition)
        path = write(tmp_path, "签到编号,报名编号,签到时间\nCI-1,R-1,2024-03-19 09:12\n", name=f"c{n}.csv")
        assert run(org, path, kind="checkins", edition=edition, user=owner).counts["new"] == 1
        again = run(org, path, kind="checkins", edition=edition, user=owner)
        assert again.counts["written"] == 0 and again.counts["matched"] == 1
    assert count(Scan) == 2
    assert all(len(s) <= 64 for s in db.session.scalars(select(Scan.client_scan_id)))
