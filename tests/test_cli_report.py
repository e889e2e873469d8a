"""`expo report EDITION_ID`: the edition report on the terminal, in English or Chinese, its columns aligned
by display width (a Chinese character takes two columns)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from wcwidth import wcswidth

from expo.cli import main
from expo.extensions import db
from expo.leads import services as lead_services

CHINESE_EXHIBITORS = ["深圳宏达家具有限公司", "佛山金雅家居有限公司", "东莞森林木业实业有限公司"]
CELL = re.compile(r"\S+(?: \S+)*")  # a cell: text with single spaces inside; columns are two or more apart



@pytest.fixture
def edition(make, fresh_translations):
    edition = make.edition()
    exhibitors = [make.exhibitor(edition, name) for name in CHINESE_EXHIBITORS]
    exhibitors.append(make.exhibitor(edition, "Nordic Furniture GmbH"))
    visitors = [make.registration(edition, name=f"观众{n}", category=category)
                for n, category in enumerate(["buyer", "buyer", "trade_visitor", "media", "vip"])]
    user = make.user("exhibitor_admin", exhibitor=exhibitors[0])
    moment = datetime.now(timezone.utc) - timedelta(hours=1)
    for count, exhibitor in enumerate(exhibitors):
        for registration in visitors[:count + 1]:
            lead_services.capture_lead(exhibitor, registration, user, moment)
    db.session.commit()
    return edition


def report(app, edition, *args) -> str:
    result = app.test_cli_runner().invoke(main, ["report", str(edition.id), *args])
    assert result.exit_code == 0, result.output
    return result.output


def tables(output: str) -> dict[str, list[str]]:
    """Title -> lines (header first) of each table the report prints."""
    blocks = output.strip().split("\n\n")[1:]
    return {block.splitlines()[0]: block.splitlines()[1:] for block in blocks}


def column_starts(line: str) -> list[int]:
    return [wcswidth(line[:match.start()]) for match in CELL.finditer(line)]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_report_columns_start_at_the_same_display_column_on_every_line(app, edition, lang):
    output = report(app, edition, *(["--lang", lang] if lang != "en" else []))
    found = tables(output)
    assert len(found) == 4
    leads = next(lines for lines in found.values() if any(CHINESE_EXHIBITORS[0] in line for line in lines))
    assert all(any(name in line for line in leads) for name in CHINESE_EXHIBITORS)
    for title, lines in found.items():
        starts = [column_starts(line) for line in lines]
        assert len(set(map(tuple, starts))) == 1, f"{title}: columns start at {starts}\n" + "\n".join(lines)


def test_report_speaks_english_by_default(app, edition):
    found = tables(report(app, edition))
    leads = found["Leads per exhibitor"]
    assert CELL.findall(leads[0]) == ["Exhibitor", "Booth", "Leads", "Hot"]
    categories = found["Registrations by visitor category"]
    assert CELL.findall(categories[0]) == ["Category", "Registrations", "Checked in"]
    assert {CELL.findall(line)[0] for line in categories[1:]} == {"Buyer", "Trade visitor", "Media", "VIP"}


def test_report_in_chinese(app, edition):
    output = report(app, edition, "--lang", "zh_CN")
    assert output.startswith("展后报告 ·") and "位观众登记" in output.splitlines()[0]
    found = tables(output)
    assert CELL.findall(found["各展商销售线索"][0]) == ["展商", "展位", "销售线索", "高意向"]
    categories = next(lines for title, lines in found.items() if "类别" in lines[0])
    assert {CELL.findall(line)[0] for line in categories[1:]} == {"采购商", "专业观众", "媒体", "VIP 贵宾"}
    first = next(line for line in found["各展商销售线索"] if "东莞森林木业实业有限公司" in line)
    assert CELL.findall(first)[2] == "3"
