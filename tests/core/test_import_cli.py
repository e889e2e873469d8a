"""`expo import KIND FILE`: the same import from the command line, with a progress bar and an error report."""
from __future__ import annotations

from sqlalchemy import select

from expo.cli import main
from expo.core import imports
from expo.extensions import db
from expo.visitors.models import Person, Registration

from ..conftest import count

CSV = ("编号,姓名,邮箱,手机,观众类型\n"
       "P-1,王伟,wang.wei@example.cn,13912345678,采购商\n"
       "P-2,,nobody@example.cn,,buyer\n"
       "P-3,Anna Schmidt,anna@example.de,+49 30 1234567,media\n")


def invoke(app, *args):
    return app.test_cli_runner().invoke(main, ["import", *map(str, args)])


def test_cli_import_dry_run_then_run_then_rerun(app, make, tmp_path):
    org = make.organizer()
    edition = make.edition(org)
    make.user("owner", org)
    db.session.commit()
    path = tmp_path / "visitors.csv"
    path.write_bytes(CSV.encode("gbk"))
    result = invoke(app, "registrations", path, "--edition", edition.id, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "gb18030" in result.output and "姓名 -> name" in result.output
    assert "2 new" in result.output and "1 bad" in result.output and "dry run" in result.output
    assert count(Person) == 0
    result = invoke(app, "registrations", path, "--edition", edition.id)
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output and "importing" in result.output
    report = (tmp_path / "visitors.csv.errors.csv").read_text("utf-8-sig")
    assert report.splitlines()[1].startswith("3,")
    db.session.expire_all()
    assert count(Registration) == 2
    assert db.session.scalar(select(Registration.category).where(Registration.external_ref.is_(None))) is not None
    result = invoke(app, "registrations", path, "--edition", edition.id)
    assert "0 new, 2 matched" in result.output and "0 changed data" in result.output
    assert count(Registration) == 2


def test_cli_import_with_a_saved_mapping_and_clear_errors(app, make, tmp_path):
    org = make.organizer()
    make.user("owner", org)
    from expo.core.scoping import Scope
    imports.save_mapping(Scope(org.id), "persons", "legacy", {"Who": "name", "Mail": "email"}, actor_id=None)
    db.session.commit()
    path = tmp_path / "legacy.csv"
    path.write_text("Who;Mail\nZhang;zhang@example.cn\n", "utf-8")
    result = invoke(app, "persons", path, "--organizer", org.id, "--mapping", "legacy")
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    assert invoke(app, "persons", path, "--organizer", org.id, "--mapping", "nope").exit_code == 2
    assert invoke(app, "spaceships", path).exit_code == 2
    assert invoke(app, "registrations", path, "--organizer", org.id).exit_code == 2  # needs an edition
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = invoke(app, "persons", empty, "--organizer", org.id)
    assert result.exit_code == 1 and "empty" in result.output
