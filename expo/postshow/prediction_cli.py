"""``expo predictions EDITION``: the predictions as CSV or JSON (see expo/cli.py for the options)."""
from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select

from ..core.models import Edition
from ..core.scoping import Scope
from ..core.services import parse_id
from ..core.tabular import csv_text
from ..extensions import db
from . import backtest
from .prediction_export import COLUMNS, iter_export_rows, run_summary
from .predictions import latest_run


def run(edition: str, kind: str, fmt: str, lang: str, stored: bool, output: str | None) -> None:
    ident = parse_id(edition)  # ASCII digits only, no overflow on 20 digits
    found = db.session.get(Edition, ident) if ident is not None else db.session.scalar(
        select(Edition).where(Edition.slug == edition[:80]))
    if found is None:
        raise click.ClickException("No such edition.")
    scope = Scope(found.organizer_id)
    if not stored:
        computed = backtest.compute(found, kind)
        db.session.commit()
        if computed.status != "done":
            raise click.ClickException(computed.message or computed.status)
    run_row = latest_run(scope, found, kind, done_only=True)
    if run_row is None:
        raise click.ClickException("No predictions stored for this edition yet (run without --stored).")
    summary = run_summary(run_row)["backtest"]
    click.echo(f"AUC {summary['auc']} (recency alone {summary['baseline_auc']}), Brier {summary['brier']}, "
               f"backtest on {summary['n']} customers", err=True)
    rows = iter_export_rows(scope, found, kind, locale=lang)
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
            columns = list(COLUMNS[kind])
            out.write(csv_text([*columns, "probability", "reasons"], []))  # BOM + header
            for r in rows:  # each line as csv_text writes it (quoting, formula cells neutralised)
                out.write(csv_text([], [[*(r[c] for c in columns), r["probability"], " · ".join(r["reasons"])]])
                          [len("\ufeff\r\n"):])
                written += 1
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"{written} rows written to {output}", err=True)
