"""External references: kept by every import, shown on the registration and lead pages, carried by the exports."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.leads.models import Lead

from ..conftest import login
from .test_imports import run, write


def test_references_on_pages_and_in_every_export(make, client, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    owner = make.user("owner", org)
    regs = "报名编号,客户编号,姓名,邮箱\nREG-77,CRM-5,王伟,wang@example.cn\n"
    run(org, write(tmp_path, regs, name="r.csv"), kind="registrations", edition=edition)
    exhibitors = "展商编号,公司编号,公司名称\nEX-9,C-9,华星家具有限公司\n"
    run(org, write(tmp_path, exhibitors, name="e.csv"), kind="exhibitors", edition=edition)
    leads = "线索编号,展商编号,报名编号,评级\nL-42,EX-9,REG-77,hot\n"
    run(org, write(tmp_path, leads, name="l.csv"), kind="leads", edition=edition)
    exhibitor = db.session.scalar(select(Exhibitor).where(Exhibitor.external_ref == "EX-9"))
    admin = make.user("exhibitor_admin", org, exhibitor=exhibitor)
    lead_id = db.session.scalar(select(Lead.id).where(Lead.external_ref == "L-42"))
    from expo.visitors.models import Registration
    registration_id = db.session.scalar(select(Registration.id).where(Registration.external_ref == "REG-77"))
    db.session.commit()

    login(client, owner)
    page = client.get(f"/org/editions/{edition.id}/registrations/{registration_id}").get_data(as_text=True)
    assert "REG-77" in page and "CRM-5" in page and "None recorded in this app (imported)" in page
    csv_text = client.get(f"/org/editions/{edition.id}/registrations.csv").data.decode("utf-8-sig")
    header, row = csv_text.splitlines()[:2]
    assert "Reference" in header and "Person reference" in header and "REG-77" in row and "CRM-5" in row
    sheet = load_workbook(io.BytesIO(client.get(f"/org/editions/{edition.id}/registrations.xlsx").data)).active
    values = [cell.value for cell in sheet[2]]
    assert "REG-77" in values and "CRM-5" in values

    login(client, admin)
    assert "L-42" in client.get(f"/portal/leads/{lead_id}").get_data(as_text=True)
    assert "L-42" in client.get("/portal/leads.csv").data.decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(client.get("/portal/leads.xlsx").data)).active
    assert "L-42" in [cell.value for cell in sheet[2]]
