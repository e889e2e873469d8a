"""Each exhibitor's ROI report (R24): one PDF with what the show brought the exhibitor — leads and hot leads against
the other exhibitors, meetings, the visitor profile of its leads against the show's, and its satisfaction against
its peers — downloadable from the portal and mailed to the exhibitor's admins after the show.

The figures are the exhibitor dashboard's (``exhibitor_dashboard``: the same privacy rules for the profile), plus
the rank among the edition's exhibitors and the satisfaction of the survey answers. ``mail_reports`` queues one mail
per admin in their language with the PDF attached, once per edition (the audit log holds the sending); the task in
``roi_tasks`` commits and hands the mails to delivery.

Plain functions: no request, no current user; the caller commits.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from statistics import median

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select

from ..core import services as core
from ..core.models import AuditEntry, Edition, User
from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from ..visitors.services import pdf_fonts
from .exhibitor_dashboard import OTHER, _show_lead_counts, exhibitor_dashboard

MAILED = "roi_report.mailed"  # the audit action that records an edition's sending
FILENAME = "roi-report-{edition}.pdf"


# --- the figures -------------------------------------------------------------------------------------------

def _satisfaction(exhibitor: Exhibitor) -> dict:
    """The exhibitor's mean 0–10 recommend score in the edition's exhibitor surveys (the ``exhibitor_satisfaction``
    hook), against the other exhibitors of the edition: their median, and how many answered."""
    scope = Scope(exhibitor.organizer_id)
    ids = list(db.session.scalars(scoped(Exhibitor, scope, Exhibitor.id).where(
        Exhibitor.edition_id == exhibitor.edition_id, Exhibitor.status.in_(PARTICIPATING_STATUSES))))
    ids = sorted(set(ids) | {exhibitor.id})
    scores: dict[int, float] = {}
    for hook in registry.hook("exhibitor_satisfaction"):
        scores.update({k: v for k, v in (hook(scope, ids) or {}).items() if v is not None})
    yours = scores.get(exhibitor.id)
    peers = [float(v) for k, v in scores.items() if k != exhibitor.id]
    return {"yours": None if yours is None else round(float(yours), 1),
            "peers_median": round(median(peers), 1) if peers else None, "peers": len(peers)}


def roi_figures(exhibitor: Exhibitor, *, locale: str = "en", now: datetime | None = None) -> dict:
    """The report's figures: the dashboard's, the exhibitor's rank by leads and its satisfaction against peers."""
    data = exhibitor_dashboard(exhibitor, now=now, locale=locale)
    counts = _show_lead_counts(exhibitor)
    leads = data["figures"]["leads"]
    data["rank"] = {"position": 1 + sum(1 for n in counts if n > leads), "of": len(counts)}
    data["satisfaction"] = _satisfaction(exhibitor)
    return data


# --- the PDF -----------------------------------------------------------------------------------------------

def _styles(regular: str, bold: str) -> dict:
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=13, alignment=TA_LEFT,
                          textColor=colors.HexColor("#1f2937"))
    return {
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=18, leading=23, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, textColor=colors.HexColor("#6b7280"), spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=base, fontName=bold, fontSize=12.5, leading=17, spaceBefore=10,
                             spaceAfter=5, textColor=colors.HexColor("#0d6efd")),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#6b7280")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "kpi": ParagraphStyle("kpi", parent=base, fontName=bold, fontSize=16, leading=20),
    }


def _table(rows: list[list], widths: list[float], *, header: bool = True, regular: str, bold: str) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1 if header else 0)
    style = [("FONTNAME", (0, 0), (-1, -1), regular), ("FONTSIZE", (0, 0), (-1, -1), 9),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 3),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dee2e6")),
             ("ALIGN", (1, 0), (-1, -1), "RIGHT")]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f1f3f5")), ("FONTNAME", (0, 0), (-1, 0), bold)]
    table.setStyle(TableStyle(style))
    return table


def _number(value, suffix: str = "") -> str:
    if value is None:
        return "—"
    return (f"{value:,}" if isinstance(value, int) else f"{value:,.1f}") + suffix


def roi_pdf(exhibitor: Exhibitor, *, locale: str = "en", now: datetime | None = None) -> bytes:
    """The exhibitor's ROI report as a PDF in ``locale`` (zh_CN or en), A4."""
    regular, bold = pdf_fonts()
    with force_locale(locale):
        data = roi_figures(exhibitor, locale=locale, now=now)
        s = _styles(regular, bold)
        figures, edition = data["figures"], exhibitor.edition
        story = [Paragraph(_("Your results at %(edition)s", edition=_escape(edition.name)), s["title"]),
                 Paragraph(_("%(company)s · report of %(day)s", company=_escape(exhibitor.company.name),
                             day=data["today"]), s["subtitle"])]

        story.append(Paragraph(_("Leads and meetings"), s["h2"]))
        rank = data["rank"]
        kpis = [
            (_("Leads"), _number(figures["leads"])),
            (_("Hot leads"), _number(figures["hot"]) + (f" ({figures['hot_share']:.0f}%)"
                                                         if figures["hot_share"] is not None else "")),
            (_("Median of the exhibitors"), _number(figures["median_leads"])),
            (_("Your rank by leads"), _("%(n)s of %(of)s", n=rank["position"], of=rank["of"])),
            (_("Meetings held"), _number(figures["meetings_held"])),
            (_("Meetings agreed"), _number(figures["meetings_agreed"])),
        ]
        cells = [[Paragraph(value, s["kpi"]) for _label, value in kpis[i:i + 3]] for i in (0, 3)]
        labels = [[Paragraph(label, s["small"]) for label, _value in kpis[i:i + 3]] for i in (0, 3)]
        grid = Table([cells[0], labels[0], cells[1], labels[1]], colWidths=[58 * mm] * 3, hAlign="LEFT")
        grid.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 1), (-1, 1), 8)]))
        story.append(grid)
        ratings = [[_("Rating"), _("Leads")], [_("Hot"), _number(figures["hot"])], [_("Warm"), _number(figures["warm"])],
                   [_("Cold"), _number(figures["cold"])], [_("Not rated"), _number(figures["unrated"])]]
        story.append(_table(ratings, [60 * mm, 30 * mm], regular=regular, bold=bold))

        profile = data["profile"]
        story.append(Paragraph(_("Who your leads are, against the show"), s["h2"]))
        show_name = _("Visitors who came") if profile["came"] else _("Registered visitors")
        story.append(Paragraph(_("Shares of your %(leads)s leads against the %(show)s of the show (%(who)s). Answers "
                                 "of visitors who did not share their details with exhibitors are not shown.",
                                 leads=profile["leads"], show=_number(profile["show"]), who=show_name.lower()),
                               s["small"]))
        for dimension in profile["dimensions"]:
            if not dimension["rows"]:
                continue
            label = {"category": _("Visitor category"), "country": _("Country")}.get(dimension["key"],
                                                                                    dimension["label"])
            rows = [[Paragraph(_escape(label), s["cell"]), _("Your leads"), show_name]]
            rows += [[Paragraph(_escape(r["label"] if r["value"] != OTHER else _("Other")), s["cell"]),
                      _number(r["leads_pct"], "%"), _number(r["show_pct"], "%")] for r in dimension["rows"]]
            story += [Spacer(1, 6), _table(rows, [80 * mm, 30 * mm, 40 * mm], regular=regular, bold=bold)]

        story.append(Paragraph(_("Satisfaction"), s["h2"]))
        satisfaction = data["satisfaction"]
        if satisfaction["yours"] is None:
            story.append(Paragraph(_("Your company did not answer the exhibitor survey of this edition."), s["body"]))
        else:
            rows = [[_("Would recommend the show (0–10)"), _("Score")],
                    [_("Your company"), _number(satisfaction["yours"])],
                    [_("Median of the other exhibitors (%(n)s answered)", n=satisfaction["peers"]),
                     _number(satisfaction["peers_median"])]]
            story.append(_table(rows, [100 * mm, 30 * mm], regular=regular, bold=bold))
        story += [Spacer(1, 14), Paragraph(_("Your leads, their notes and the visitors' details stay in your exhibitor "
                                             "portal: follow them up there."), s["small"])]

        out = io.BytesIO()
        doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                bottomMargin=16 * mm, title=_("ROI report"), author=exhibitor.edition.name,
                                subject=exhibitor.company.name)
        doc.build(story)
    return out.getvalue()


def _escape(text) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text or ""))


def filename(exhibitor: Exhibitor) -> str:
    return FILENAME.format(edition=exhibitor.edition.slug or exhibitor.edition_id)


# --- mailing after the show ------------------------------------------------------------------------------

def mailed_at(edition: Edition) -> datetime | None:
    """When the edition's reports were mailed, or None."""
    return db.session.scalar(select(AuditEntry.at).where(
        AuditEntry.organizer_id == edition.organizer_id, AuditEntry.action == MAILED,
        AuditEntry.object_type == Edition.__tablename__, AuditEntry.object_id == edition.id)
        .order_by(AuditEntry.at).limit(1))


def check_mailable(edition: Edition, *, now: datetime | None = None) -> None:
    """A ServiceError unless the edition's reports may go out now: once the show has ended, once per edition."""
    from .rebooking import edition_today

    if edition_today(edition, now) <= edition.ends_on:
        raise ServiceError(_l("The reports go out once the show has ended."))
    if mailed_at(edition) is not None:
        raise ServiceError(_l("The ROI reports of this edition were mailed already."))


def mail_reports(edition: Edition, *, actor_id: int | None = None, now: datetime | None = None) -> list[int]:
    """Queue each participating exhibitor's report to its active admins (their language), once per edition and
    only once the show has ended. Returns the queued mails' ids (the caller commits, then delivers them)."""
    now = now or datetime.now(timezone.utc)
    check_mailable(edition, now=now)
    scope = Scope(edition.organizer_id)
    exhibitors = list(db.session.scalars(scoped(Exhibitor, scope).where(
        Exhibitor.edition_id == edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES)).order_by(Exhibitor.id)))
    admins: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(
            User.organizer_id == edition.organizer_id, User.exhibitor_id.in_([e.id for e in exhibitors] or [-1]),
            User.role == "exhibitor_admin", User.active.is_(True), User.email != "").order_by(User.id)):
        admins.setdefault(user.exhibitor_id, []).append(user)
    queued: list[int] = []
    for exhibitor in exhibitors:
        by_locale: dict[str, bytes] = {}
        for user in admins.get(exhibitor.id, []):
            locale = user.locale or "en"
            if locale not in by_locale:
                by_locale[locale] = roi_pdf(exhibitor, locale=locale, now=now)
            with force_locale(locale):
                subject = _("Your results at %(edition)s (ROI report)", edition=edition.name)
                body = "\n\n".join([
                    _("Thank you for exhibiting at %(edition)s.", edition=edition.name),
                    _("Attached: the report of what the show brought %(company)s — leads, hot leads, meetings, "
                      "who your leads are against the show, and your satisfaction against the other exhibitors.",
                      company=exhibitor.company.name),
                    _("It is also in your exhibitor portal, on the Dashboard page.")])
            message = core.queue_mail(edition.organizer_id, user.email, " ".join(subject.split())[:300], body,
                                      attachments=[(filename(exhibitor), "application/pdf", by_locale[locale])])
            if message is not None:
                queued.append(message.id)
    audit(MAILED, organizer_id=edition.organizer_id, user_id=actor_id, obj=edition,
          details={"exhibitors": len(exhibitors), "mails": len(queued)})
    return queued
