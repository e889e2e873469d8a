"""The ``expo`` command: run, worker, demo, db, token, report, audit, bench-data."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from flask_babel import lazy_gettext as _l

from . import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False)
def main():
    """Expo CRM: an exhibition CRM for organizers, exhibitors and visitors."""


main.add_command(shell_command)
main.add_command(routes_command)


def _upgrade_database():
    from flask_migrate import upgrade

    upgrade()


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not start the background worker beside the web server.")
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty database.")
@with_appcontext
def run_command(host, port, no_worker, no_demo):
    """Serve the app (and a Celery worker) on the embedded defaults, with demo data on first start."""
    from werkzeug.serving import run_simple

    from . import demo

    _upgrade_database()
    accounts = None
    if not no_demo and demo.is_empty():
        click.echo("Loading demo data (first start)…")
        accounts = demo.load_demo()
    app = current_app._get_current_object()
    worker = None
    if not no_worker and not app.config["CELERY"].get("task_always_eager"):
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "expo.celery_app", "worker",
                                   "--pool=threads", "--concurrency=2", "--loglevel=WARNING"], env=os.environ.copy())
    # A plain `kill` must stop the worker too: turn SIGTERM into an exit that runs the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    base = f"http://{host}:{port}"
    click.echo(f"\nExpo CRM is running at {base}/")
    click.echo(demo.sign_in_help(base, accounts))
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)


@main.command("worker")
@click.option("--concurrency", default=2, show_default=True, type=int)
def worker_command(concurrency):
    """Run a Celery worker for this app's broker."""
    os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "expo.celery_app", "worker",
                              "--pool=threads", f"--concurrency={concurrency}", "--loglevel=INFO"])


@main.command("demo")
@click.option("--visitors", default=1000, show_default=True, help="Registrations in the live edition.")
@with_appcontext
def demo_command(visitors):
    """Load the demo show into an empty database."""
    from . import demo

    _upgrade_database()
    if not demo.is_empty():
        raise click.ClickException("The database is not empty; demo data goes only into an empty one.")
    accounts = demo.load_demo(visitors=visitors)
    click.echo(demo.sign_in_help("http://127.0.0.1:5000", accounts))


@main.command("bench-data")
@click.option("--visitors", default=20000, show_default=True, help="Registrations in the live edition.")
@click.option("--exhibitors", default=300, show_default=True)
@click.option("--editions", default=3, show_default=True, help="Editions of the show, the last one live.")
@with_appcontext
def bench_data_command(visitors, exhibitors, editions):
    """Generate synthetic data of a given size (for benchmarks) into an empty database."""
    from . import demo

    _upgrade_database()
    if not demo.is_empty():
        raise click.ClickException("The database is not empty.")
    demo.generate(visitors=visitors, exhibitors=exhibitors, editions=editions)
    click.echo("done")


@main.group("token")
def token_group():
    """Personal API tokens."""


@token_group.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@with_appcontext
def token_create(email, name):
    """Create an API token for the user and print it (it is shown only this once)."""
    from .core import services
    from .extensions import db

    user = services.user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}.")
    _token, clear = services.create_api_token(user, name)
    db.session.commit()
    click.echo(clear)


# The report's column names (postshow's frames) and the columns whose codes are shown as their labels.
REPORT_COLUMNS = {
    "category": _l("Category"), "registrations": _l("Registrations"), "checked_in": _l("Checked in"),
    "source": _l("Source"), "day": _l("Day"), "visitors": _l("Visitors"), "scans": _l("Scans"),
    "exhibitor": _l("Exhibitor"), "booth": _l("Booth"), "leads": _l("Leads"), "hot": _l("Hot"),
}
LABELLED_COLUMNS = {"category": "visitor_category", "source": "registration_source"}  # column -> status type


def _report_table(frame) -> str:
    from .core.tabular import text_table
    from .core.templating import state

    columns = list(frame.columns)
    rows = [[state(value, LABELLED_COLUMNS[column]) if column in LABELLED_COLUMNS else value
             for column, value in zip(columns, row)] for row in frame.itertuples(index=False)]
    return text_table([str(REPORT_COLUMNS.get(column, column)) for column in columns], rows)


@main.command("report")
@click.argument("edition_id", type=int)
@click.option("--lang", type=click.Choice(["en", "zh_CN"]), default="en", show_default=True,
              help="Language of the headings and labels.")
@with_appcontext
def report_command(edition_id, lang):
    """Print the edition report (columns aligned for Chinese text too)."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from .core.models import Edition
    from .core.scoping import Scope
    from .extensions import db
    from .postshow.services import edition_report

    edition = db.session.get(Edition, edition_id)
    if edition is None:
        raise click.ClickException("No such edition.")
    report = edition_report(Scope(edition.organizer_id), edition)
    with force_locale(lang):
        click.echo(f"{_('Edition report')} · {edition.name}: {report.registrations_total} {_('registrations')}, "
                   f"{report.returning_visitors} {_('returning visitors')}, "
                   f"{report.rebooked_exhibitors} {_('rebooked exhibitors')}")
        for title, frame in ((_("Registrations by visitor category"), report.by_category),
                             (_("Registrations by source"), report.by_source),
                             (_("Check-ins by day"), report.checkins_by_day),
                             (_("Leads per exhibitor"), report.leads_per_exhibitor)):
            click.echo(f"\n{title}\n{_report_table(frame)}")


@main.command("audit")
@click.option("--organizer", "organizer_id", type=int, default=None,
              help="Read this organizer's log instead of the instance's own entries.")
@click.option("--action", default=None, help="Only this action, e.g. user.login_failed.")
@click.option("--failed-sign-ins", is_flag=True, help="Only failed sign-ins (the same as --action user.login_failed).")
@click.option("--email", default=None, help="Only failed sign-ins tried with this email.")
@click.option("--ip", default=None, help="Only entries from this address.")
@click.option("--since", default=None, help="From this day (YYYY-MM-DD, UTC).")
@click.option("--until", default=None, help="Up to and including this day (YYYY-MM-DD, UTC).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000), help="Newest entries shown.")
@with_appcontext
def audit_command(organizer_id, action, failed_sign_ins, email, ip, since, until, limit):
    """The instance's audit entries, newest first, times in UTC: those of no organizer — failed sign-ins with
    an email no account has, above all — or one organizer's log (--organizer). Whoever has a shell on the
    server runs the instance; the app has no role above an organizer's owner, so this is their view."""
    from .core import services
    from .core.tabular import text_table

    filters = services.AuditFilters(action=services.FAILED_SIGN_IN if failed_sign_ins else action,
                                    email=email, ip=ip, since=since, until=until)
    entries = services.instance_audit_entries(filters, organizer_id=organizer_id, limit=limit)
    rows = [[entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.action, entry.user.email if entry.user else "",
             entry.ip or "", services.AuditLog.object(entry),
             "; ".join(f"{name}: {value}" for name, value in services.AuditLog.details(entry))]
            for entry in entries]
    header = [_l("Time (UTC)"), _l("Action"), _l("User"), _l("IP"), _l("Object"), _l("Details")]
    click.echo(text_table(header, rows) if rows else str(_l("No entries.")))


@main.command("shred")
@click.option("--due", is_flag=True, help="Shred the editions whose retention period is over (without it: list them).")
@with_appcontext
def shred_command(due):
    """Shred visitors' personal data of editions past their retention period (the hourly beat task does the
    same); counts and statistics stay."""
    from .core.services import shred_on
    from .visitors import privacy
    from .visitors.privacy_tasks import shred_due_personal_data

    editions = privacy.due_editions()
    if not due:
        for edition in editions:
            click.echo(f"#{edition.id} {edition.name}: due since {shred_on(edition).isoformat()}")
        click.echo(f"{len(editions)} edition(s) due; run `expo shred --due` to shred them.")
        return
    for done in shred_due_personal_data():
        click.echo(f"Edition #{done['edition_id']}: {done['registrations']} registration(s) shredded, "
                   f"{done['persons']} visitor(s) erased.")
    click.echo("Done.")


@main.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--edition", "edition_id", type=int, default=None, help="The edition the rows go into (needed by "
              "registrations, exhibitors, leads and check-ins).")
@click.option("--organizer", "organizer_id", type=int, default=None,
              help="The organizer (without --edition; may be left out when there is only one).")
@click.option("--mapping", default=None, help="A saved mapping (name or id); without it the columns are guessed "
              "from their names.")
@click.option("--dry-run", is_flag=True, help="Classify and check every row, write nothing.")
@click.option("--ambiguous", type=click.Choice(["skip", "new"]), default="skip", show_default=True,
              help="What happens to ambiguous rows: left out (in the error report) or written as new records.")
@click.option("--user", "user_email", default=None, help="The staff member the import is recorded for (default: "
              "the organizer's first owner).")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the error report goes (default: FILE.errors.csv beside the file).")
@with_appcontext
def import_command(kind, file, edition_id, organizer_id, mapping, dry_run, ambiguous, user_email, errors_path):
    """Import a CSV or XLSX file (docs/imports.md): KIND is persons, registrations, companies, exhibitors,
    leads or checkins. The same dedupe, checks and idempotency as the import screens."""
    from sqlalchemy import select

    from .core import imports, services
    from .core.models import Edition, Organizer, User
    from .core.scoping import Scope
    from .extensions import db

    try:
        kind_ = imports.kind(kind)
    except services.ServiceError:
        raise click.UsageError(f"unknown kind {kind!r}; one of: {', '.join(imports.kinds())}") from None
    edition = db.session.get(Edition, edition_id) if edition_id else None
    if edition_id and edition is None:
        raise click.UsageError(f"no edition #{edition_id}")
    if kind_.needs_edition and edition is None:
        raise click.UsageError(f"{kind} rows go into an edition: give --edition")
    if edition is not None:
        organizer_id = edition.organizer_id
    elif organizer_id is None:
        ids = db.session.scalars(select(Organizer.id).limit(2)).all()
        if len(ids) != 1:
            raise click.UsageError("give --organizer (or --edition)")
        organizer_id = ids[0]
    staff = select(User).where(User.organizer_id == organizer_id, User.exhibitor_id.is_(None))
    user = db.session.scalar(staff.where(User.email == services.normalize_email(user_email)) if user_email
                             else staff.where(User.role == "owner").order_by(User.id).limit(1))
    if user_email and user is None:
        raise click.UsageError(f"no staff member {user_email} at this organizer")
    scope = Scope(organizer_id)
    try:
        table = imports.open_table(file)
        table.close()
    except services.ServiceError as error:
        raise click.ClickException(str(error)) from None
    if mapping:
        saved = imports.find_mapping(scope, kind_.code, mapping)
        if saved is None:
            raise click.UsageError(f"no saved mapping {mapping!r} for {kind}")
        columns = dict(saved.columns)
    else:
        columns = imports.guess_mapping(kind_, table.header)
    click.echo(f"{file.name}: {table.format.upper()}"
               + (f", {table.encoding}, separator {table.separator!r}" if table.encoding else ""))
    for column in table.header:
        click.echo(f"  {column} -> {columns.get(column, '(left out)')}")
    problems = imports.check_mapping(kind_, table.header, columns)
    if problems:
        raise click.ClickException(" ".join(problems))
    errors_path = errors_path or file.with_name(file.name + ".errors.csv")
    context = imports.Context(organizer_id=organizer_id, user_id=user.id if user else None, edition=edition,
                              ambiguous=ambiguous)
    total = imports.count_rows(file)
    with click.progressbar(length=total, label="dry run" if dry_run else "importing", show_pos=True) as bar:
        shown = [0]

        def progress(done, errors):
            step = min(done, total) - shown[0]
            if step > 0:
                bar.update(step)
                shown[0] += step

        try:
            report = imports.run(kind_, file, columns, context, write=not dry_run, error_path=errors_path,
                                 progress=progress)
        except services.ServiceError as error:
            raise click.ClickException(str(error)) from None
    if dry_run:
        db.session.rollback()
    else:
        services.audit("import.finished", organizer_id=organizer_id, user_id=user.id if user else None,
                       details={"rows": report.counts["rows"], "name": file.name, "format": table.format})
        db.session.commit()
    counts = report.counts
    click.echo(imports.summary(counts) + (" (dry run: nothing written)" if dry_run else ""))
    if counts["errors"]:
        click.echo(f"Error report ({counts['errors']} rows): {errors_path}")
    else:
        errors_path.unlink(missing_ok=True)


# --- recommendations ---
@main.command("recommendations")
@click.argument("edition")
@click.option("--side", type=click.Choice(["visitors", "exhibitors"]), default="visitors", show_default=True,
              help="visitors: exhibitors to see per registration; exhibitors: visitors to invite per exhibitor.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("-n", "--top", "n", type=click.IntRange(1, 50), default=10, show_default=True, help="Per row.")
@click.option("--lang", type=click.Choice(["en", "zh_CN"]), default="en", show_default=True,
              help="Language of the reasons.")
@click.option("--compute", is_flag=True, help="Compute the recommendations first (else: the stored ones).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
def recommendations_command(edition, side, fmt, n, lang, compute, output):
    """The stored recommendations of EDITION (its id or slug) with scores, signals and reasons, keyed by the
    external references of imported rows (and the ids). Visitors by id, reference and category only."""
    import json
    import sys

    from sqlalchemy import select

    from .core.models import Edition
    from .core.services import parse_id
    from .core.tabular import csv_text
    from .extensions import db
    from .matchmaking import services as recommendations
    from .matchmaking.models import FOR_EXHIBITOR, FOR_VISITOR

    ident = parse_id(edition)  # ASCII digits only ("١" is no 1), no overflow on 20 digits
    found = db.session.get(Edition, ident) if ident is not None else db.session.scalar(
        select(Edition).where(Edition.slug == edition))
    if found is None:
        raise click.ClickException("No such edition.")
    if compute:
        recommendations.compute(found)
        db.session.commit()
    direction = FOR_VISITOR if side == "visitors" else FOR_EXHIBITOR
    rows = recommendations.iter_export_rows(found, direction, n=n, locale=lang)  # streamed, a page at a time
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    written = 0
    try:
        if fmt == "json":  # one JSON array, written row by row
            out.write("[")
            for row in rows:
                out.write(("," if written else "") + "\n " + json.dumps(row, ensure_ascii=False))
                written += 1
            out.write("\n]\n")
        else:
            owner = ["registration_id", "registration_ref", "visitor_category"] if side == "visitors" else \
                ["exhibitor_id", "exhibitor_ref", "company"]
            other = ["exhibitor_id", "exhibitor_ref", "company"] if side == "visitors" else \
                ["registration_id", "registration_ref", "visitor_category"]
            out.write(csv_text([*owner, "rank", *other, "score", "signals", "reasons"], []))  # BOM + header
            for r in rows:  # each line as csv_text writes it (quoting, formula cells neutralised)
                out.write(csv_text([], [[*(r[c] for c in owner), r["rank"], *(r[c] for c in other), r["score"],
                                         json.dumps(r["signals"]), " ".join(r["reasons"])]])[len("\ufeff\r\n"):])
                written += 1
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{written} rows written to {output}", err=True)


# --- predictions (issue 11) ---
@main.command("predictions")
@click.argument("edition")
@click.option("--kind", type=click.Choice(["exhibitor", "visitor"]), default="exhibitor", show_default=True,
              help="exhibitor: every company's chance of rebooking; visitor: every person's chance of coming back.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh_CN"]), default="en", show_default=True,
              help="Language of the reasons.")
@click.option("--stored", is_flag=True, help="Read the latest stored run (else: compute and store a new one first).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
def predictions_command(edition, kind, fmt, lang, stored, output):
    """Every company's rebooking (or every person's return) score for the edition after EDITION (its id or
    slug), with the reasons, keyed by the external references of imported rows (and the ids)."""
    from .postshow import prediction_cli

    prediction_cli.run(edition, kind, fmt, lang, stored, output)


if __name__ == "__main__":
    main()
