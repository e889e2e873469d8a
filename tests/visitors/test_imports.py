"""Person and registration imports: encodings, dedupe classes, bad rows, idempotent reruns."""
from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from expo.core import imports
from expo.core.activity import Activity
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors.models import Person, Registration

from ..conftest import count

HEADER = "编号,姓名,邮箱,手机,公司,职位\n"
ROWS = ("P-1,王伟,wang.wei@example.cn,13912345678,深圳华星家具有限公司,采购经理\n"
        "P-2,Anna Schmidt,anna@example.de,+49 30 1234567,Büro GmbH,Buyer\n"
        "P-3,李娜,li.na@example.cn,139 0000 1111,广州家居股份有限公司,总监\n")


def write(tmp_path: Path, text: str, encoding="utf-8", name="people.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(organizer, path, kind="persons", edition=None, write_=True, ambiguous="skip", mapping=None, user=None):
    kind_ = imports.kind(kind)
    if mapping is None:
        table = imports.open_table(path)
        table.close()
        mapping = imports.guess_mapping(kind_, table.header)
    context = imports.Context(organizer_id=organizer.id, user_id=user.id if user else None, edition=edition,
                              ambiguous=ambiguous)
    report = imports.run(kind_, path, mapping, context, write=write_, error_path=path.with_suffix(".errors.csv"))
    db.session.commit()
    return report


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_csv_in_every_encoding_excel_writes(make, tmp_path, encoding):
    org = make.organizer()
    path = write(tmp_path, HEADER + ROWS, encoding)
    assert imports.detect_encoding(path.read_bytes()) == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig",
                                                          "gbk": "gb18030", "gb18030": "gb18030"}[encoding]
    report = run(org, path)
    assert report.counts["new"] == 3 and report.counts["bad"] == 0
    wang = db.session.scalar(select(Person).where(Person.external_ref == "P-1"))
    assert wang.name == "王伟" and wang.company == "深圳华星家具有限公司" and wang.phone_key == "+8613912345678"
    assert wang.email_key == "wang.wei@example.cn"


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separators(make, tmp_path, separator):
    org = make.organizer()
    path = write(tmp_path, (HEADER + ROWS).replace(",", separator))
    assert run(org, path).counts["new"] == 3


def test_xlsx_is_read_streamed_with_numbers_as_text(make, tmp_path):
    org = make.organizer()
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "E-mail", "Mobile", "Company", "ID"])
    sheet.append(["Zhang San", "zhang@example.cn", 13912340000, "ACME Co., Ltd.", 1001])
    sheet.append(["Li Si", "li@example.cn", None, None, 1002])
    path = tmp_path / "people.xlsx"
    book.save(path)
    report = run(org, path)
    assert report.counts["new"] == 2
    zhang = db.session.scalar(select(Person).where(Person.external_ref == "1001"))
    assert zhang.phone == "13912340000" and zhang.phone_key == "+8613912340000"


def test_rerun_of_the_same_file_changes_nothing(make, tmp_path):
    org = make.organizer()
    path = write(tmp_path, HEADER + ROWS)
    first = run(org, path)
    assert first.counts["written"] == 3
    persons, activities = count(Person), count(Activity)
    assert activities >= 3
    second = run(org, path)
    assert second.counts["matched"] == 3 and second.counts["new"] == 0 and second.counts["written"] == 0
    assert count(Person) == persons and count(Activity) == activities


def test_ambiguous_same_phone_other_email_is_not_written_unless_chosen(make, tmp_path):
    org = make.organizer()
    run(org, write(tmp_path, HEADER + ROWS))
    clash = HEADER + "P-9,王伟,w.wang@other.cn,+86 139 1234 5678,华星,经理\n"
    dry = run(org, write(tmp_path, clash, name="clash.csv"), write_=False)
    assert dry.counts["ambiguous"] == 1 and dry.samples["ambiguous"][0]["line"] == 2
    before = count(Person)
    report = run(org, write(tmp_path, clash, name="clash.csv"))
    assert report.counts["ambiguous"] == 1 and count(Person) == before
    report = run(org, write(tmp_path, clash, name="clash.csv"), ambiguous="new")
    assert count(Person) == before + 1


def test_bad_rows_are_reported_with_their_line_and_good_rows_are_kept(make, tmp_path):
    org = make.organizer()
    text = (HEADER + "P-1,王伟,wang.wei@example.cn,13912345678,A,B\n"
            + "P-2,,nobody@example.cn,,,\n"  # no name
            + "P-3,Bad Mail,not-an-email,,,\n"
            + "P-4,Bad Phone,bp@example.cn,12,,\n"
            + "P-5,Fine,fine@example.cn,,,\n")
    path = write(tmp_path, text)
    report = run(org, path)
    assert report.counts["new"] == 2 and report.counts["bad"] == 3
    errors = path.with_suffix(".errors.csv").read_text("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in errors[1:]] == ["3", "4", "5"]
    assert "not-an-email" in errors[2]


def test_registrations_with_category_interests_answers_and_satisfaction(make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    from expo.core import services as core
    chairs = core.add_category(Scope(org.id), edition.show, "办公椅")
    text = ("报名编号,姓名,邮箱,观众类型,感兴趣的产品,满意度,报名时间,问卷回答\n"
            "R-1,王伟,wang@example.cn,采购商,办公椅,9,2024-03-02 10:15,budget=100k\n"
            "R-2,Anna,anna@example.de,Trade visitor,,7,,\n"
            "R-3,Bad,bad@example.de,Astronaut,,7,,\n"
            "R-4,Bad2,bad2@example.de,buyer,Spaceships,7,,\n")
    report = run(org, write(tmp_path, text), kind="registrations", edition=edition)
    assert report.counts["new"] == 2 and report.counts["bad"] == 2
    reg = db.session.scalar(select(Registration).where(Registration.external_ref == "R-1"))
    assert reg.category == "buyer" and reg.source == "import" and reg.answers == {"budget": "100k", "satisfaction": 9}
    assert [c.id for c in reg.interests] == [chairs.id]
    assert reg.created_at.hour == 2  # 10:15 in Asia/Shanghai
    again = run(org, write(tmp_path, text), kind="registrations", edition=edition)
    assert again.counts["matched"] == 2 and again.counts["written"] == 0


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"\x00\x01\x02\x03binary\x00\xff" * 50, "binary"), (b"PK\x03\x04garbage", "XLSX"),
])
def test_hostile_files_are_refused_in_words(make, tmp_path, content, message):
    org = make.organizer()
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(imports.ImportFileError, match=message):
        run(org, path)


def test_hostile_cells(make, tmp_path):
    org = make.organizer()
    path = write(tmp_path, "编号,姓名,邮箱\nX-1,A\x00B,a@example.cn\nX-2,Ok,ok@example.cn\n")
    report = run(org, path)
    assert report.counts["bad"] == 1 and report.counts["new"] == 1
    header_only = write(tmp_path, "编号,姓名,邮箱\n", name="h.csv")
    assert run(org, header_only).counts["rows"] == 0
    edition = make.edition(organizer=org)
    big = write(tmp_path, "姓名,邮箱,满意度\nBig,big@example.cn,1000000000000000000000000000000\n", name="b.csv")
    report = run(org, big, kind="registrations", edition=edition)
    assert report.counts["bad"] == 1 and "out of range" in report.samples["bad"][0]["reason"]


def test_a_reference_that_points_elsewhere_than_the_email_is_never_written(make, tmp_path):
    org = make.organizer()
    run(org, write(tmp_path, HEADER + ROWS))
    clash = HEADER + "P-1,李娜,li.na@example.cn,,,\n"  # P-1 is 王伟, li.na@example.cn is P-3
    report = run(org, write(tmp_path, clash, name="clash.csv"), ambiguous="new")
    assert report.counts["ambiguous"] == 1 and report.counts["written"] == 0
    assert "two different persons" in report.samples["ambiguous"][0]["reason"]


def test_a_second_row_of_the_same_person_in_one_file_is_matched(make, tmp_path):
    org = make.organizer()
    text = HEADER + "A-1,王伟,wang@example.cn,,,\n" + "A-2,王伟,WANG@example.cn ,,,\n"
    dry = run(org, write(tmp_path, text), write_=False)
    assert (dry.counts["new"], dry.counts["matched"]) == (1, 1)
    report = run(org, write(tmp_path, text))
    assert (report.counts["new"], report.counts["matched"]) == (1, 1) and count(Person) == 1


def test_one_person_twice_in_a_registrations_file_is_one_registration(make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    text = "姓名,邮箱,观众类型\n王伟,wang@example.cn,buyer\n王伟,wang@example.cn,buyer\n"
    report = run(org, write(tmp_path, text), kind="registrations", edition=edition)
    assert (report.counts["new"], report.counts["matched"]) == (1, 1)
    assert count(Registration) == 1 and count(Person) == 1


def test_imported_persons_and_companies_are_found_by_the_search_box(app, make, tmp_path):
    """Bulk inserts skip the ORM: the import writes the search keys itself (pinyin, company key), so the
    people and companies it brings in are found like any other by Chinese name, pinyin and company."""
    from expo.core.search import search
    from expo.exhibitors.models import Company

    org = make.organizer()
    run(org, write(tmp_path, HEADER + ROWS))
    companies = tmp_path / "companies.csv"
    companies.write_text("编号,公司名称,国家\nC-1,\"Acme Furniture Co., Ltd.\",CN\n", encoding="utf-8")
    report = run(org, companies, kind="companies")
    assert report.counts["new"] == 1, report.counts
    assert db.session.scalar(select(Company.name_key).where(Company.organizer_id == org.id)) == "acmefurniture"

    def found(text, group):
        with app.test_request_context():
            _query, groups = search(Scope(org.id), text, lambda _p: True)
        return [r.title for g in groups if g.key == group for r in g.results]

    for text in ("王伟", "wang wei", "wangwei", "Wei Wang"):
        assert any("王伟" in title for title in found(text, "persons")), text
    assert any("Acme" in title for title in found("acme furniture", "companies"))


def test_a_reference_filled_on_a_matched_person_and_given_to_a_new_one_is_reported(make, tmp_path):
    org = make.organizer()
    run(org, write(tmp_path, "姓名,邮箱\nOld,old@example.cn\n", name="old.csv"))
    text = "编号,姓名,邮箱\nR-1,Old,old@example.cn\nR-1,New,new@example.cn\n"
    dry = run(org, write(tmp_path, text), write_=False)
    assert (dry.counts["matched"], dry.counts["ambiguous"], dry.counts["new"]) == (1, 1, 0)
    report = run(org, write(tmp_path, text), ambiguous="new")
    assert (report.counts["matched"], report.counts["ambiguous"], report.counts["new"]) == (1, 1, 0)
    assert "used twice" in report.samples["ambiguous"][0]["reason"]
    assert db.session.scalar(select(Person.email).where(Person.external_ref == "R-1")) == "old@example.cn"
    assert count(Person) == 1
    # a later row of the same person without an email takes the reference's person, as a rerun would
    again = run(org, write(tmp_path, "编号,姓名\nR-1,Old\n", name="again.csv"))
    assert again.counts["matched"] == 1 and count(Person) == 1


def test_a_registration_reference_filled_and_taken_by_a_new_registration_is_reported(make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    run(org, write(tmp_path, "姓名,邮箱\nA,a@example.cn\n", name="a.csv"), kind="registrations", edition=edition)
    text = "报名编号,姓名,邮箱\nREG-1,B,b@example.cn\nREG-1,A,a@example.cn\n"
    dry = run(org, write(tmp_path, text), kind="registrations", edition=edition, write_=False)
    assert (dry.counts["new"], dry.counts["ambiguous"]) == (1, 1)
    report = run(org, write(tmp_path, text), kind="registrations", edition=edition)
    assert (report.counts["new"], report.counts["ambiguous"]) == (1, 1)
    assert "used twice" in report.samples["ambiguous"][0]["reason"]
    owner = db.session.scalar(select(Person.email).join(Registration, Registration.person_id == Person.id)
                              .where(Registration.external_ref == "REG-1"))
    assert owner == "b@example.cn" and count(Registration) == 2


@pytest.mark.parametrize("cell", ["2025-03-18T09:30:00+08:00", "2025-03-18T01:30:00Z", "2025-03-18 09:30"])
def test_date_times_with_and_without_a_zone_are_read_once(make, tmp_path, cell):
    from datetime import datetime

    org = make.organizer()
    edition = make.edition(org, timezone="Asia/Shanghai")
    text = f"报名编号,姓名,邮箱,报名时间\nR-1,A,a@example.cn,{cell}\n"
    report = run(org, write(tmp_path, text), kind="registrations", edition=edition)
    assert report.counts["new"] == 1, report.samples
    created = db.session.scalar(select(Registration.created_at))
    assert created.replace(tzinfo=None) == datetime(2025, 3, 18, 1, 30)


def test_a_second_run_of_the_same_import_is_refused_even_from_a_stale_page(make, tmp_path):
    """A double click on "Run": the second request loaded the job before the first queued it. It must read
    the job afresh (locked) and refuse, not queue the import a second time."""
    import io
    import json

    from sqlalchemy import text

    from expo.core.services import ServiceError

    organizer = make.organizer()
    user = make.user("owner", organizer)
    job = imports.start_upload(Scope(organizer.id), "persons", "people.csv",
                               io.BytesIO((HEADER + ROWS).encode()), user_id=user.id)
    db.session.commit()
    assert job.params["stage"] == "mapping"  # this request's view of the job, loaded before the other click
    with db.engine.begin() as other:  # the first click, in its own transaction, queued the job meanwhile
        other.execute(text("UPDATE jobs SET params = :params WHERE id = :id"),
                      {"params": json.dumps({**job.params, "stage": "queued"}), "id": job.id})
    with pytest.raises(ServiceError, match="started already"):
        imports.queue(job, ambiguous="skip", actor_id=user.id)
    db.session.rollback()
    assert count(Person) == 0  # nothing was imported by the refused click


def test_a_repeated_header_name_is_two_columns_and_only_the_first_is_guessed(make, tmp_path):
    path = write(tmp_path, "姓名,邮箱,邮箱\n王伟,wang.wei@example.cn,other@example.cn\n")
    table = imports.open_table(path)
    table.close()
    assert table.header == ["姓名", "邮箱", "邮箱 (#3)"]
    mapping = imports.guess_mapping(imports.kind("persons"), table.header)
    assert mapping.get("邮箱") == "email" and not mapping.get("邮箱 (#3)")
    report = run(make.organizer(), path)
    assert report.counts["errors"] == 0
    assert db.session.scalar(select(Person.email)) == "wang.wei@example.cn"
