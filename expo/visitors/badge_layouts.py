"""Badge layouts (a colour band and its label per visitor category, per edition) and badges in bulk: a batch
PDF of a whole edition or of a filtered registrations list, made by a Celery task with progress (core jobs).

A category without a layout of its own prints with DEFAULTS, so badges never wait for the organizer. The
label is printed in both languages on every badge ("BUYER / 买家"), whatever the language of the page that
printed it: a badge is read by visitors, exhibitors and guards alike.
"""
from __future__ import annotations

import io
import threading
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..extensions import db
from . import badges
from .listing import RegistrationFilters, _filtered, _ordered
from .models import VISITOR_CATEGORY, BadgeLayout, Registration

# Colours chosen to tell the categories apart at a glance across a hall (and to stay apart in grey print).
DEFAULTS = {
    "buyer": ("#1f5fbf", "BUYER", "买家"),
    "trade_visitor": ("#1e8a4c", "TRADE VISITOR", "专业观众"),
    "public": ("#6b7280", "VISITOR", "观众"),
    "media": ("#e06c00", "MEDIA", "媒体"),
    "vip": ("#b8860b", "VIP", "贵宾"),
    "exhibitor_staff": ("#6d28d9", "EXHIBITOR", "参展商"),
    "speaker": ("#c8102e", "SPEAKER", "演讲嘉宾"),
}
LABEL_MAX = 40
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
BATCH_KIND = "badges"
BATCH_FILE = "badges.pdf"
BATCH_LIMIT = 50_000  # a PDF larger than this is split by filtering (per category, per status...)
PREVIEW_NAMES = {"en": ("Alex Morgan", "Northwind Office Furniture Ltd.", "Purchasing Manager"),
                 "zh": ("王小明", "深圳宏达家具有限公司", "采购经理")}


@dataclass(frozen=True)
class Layout:
    category: str
    colour: str
    label_en: str
    label_zh: str
    custom: bool  # False: the defaults (no row stored)

    @property
    def printed_label(self) -> str:
        """The label as the band prints it: "BUYER / 买家", or the one language that was given."""
        return " / ".join(dict.fromkeys(text for text in (self.label_en, self.label_zh) if text))

    @property
    def category_label(self) -> str:
        return VISITOR_CATEGORY.label(self.category)


def default_layout(category: str) -> Layout:
    colour, en, zh = DEFAULTS.get(category, (badges.DEFAULT_COLOUR, category.upper(), ""))
    return Layout(category, colour, en, zh, custom=False)


def clean_colour(text) -> str:
    """A hex colour as "#rrggbb" (lower case); "#RGB" is widened. Anything else is refused."""
    match = _HEX.fullmatch((text or "").strip()) if isinstance(text, str) else None
    if not match:
        raise ServiceError(_l("A colour is written as # and six hexadecimal digits, e.g. #1f5fbf."), "colour")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits


def clean_label(text, field: str) -> str:
    """A label: one line of at most LABEL_MAX printable characters (no control characters, no NUL)."""
    text = text if isinstance(text, str) else ""
    if any((ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029\ufffe\uffff"
           for ch in text):
        raise ServiceError(_l("A label cannot contain control characters."), field)
    text = " ".join(text.split())
    if len(text) > LABEL_MAX:
        raise ServiceError(_l("A label has at most %(max)s characters.", max=LABEL_MAX), field)
    return text


def layouts_for(edition) -> dict[str, Layout]:
    """Every visitor category's layout in the edition: the stored ones, the defaults for the rest."""
    stored = {row.category: row for row in db.session.scalars(
        select(BadgeLayout).where(BadgeLayout.edition_id == edition.id,
                                  BadgeLayout.organizer_id == edition.organizer_id))}
    layouts = {}
    for category in VISITOR_CATEGORY.codes:
        row = stored.get(category)
        layouts[category] = (Layout(category, row.colour, row.label_en, row.label_zh, custom=True) if row
                             else default_layout(category))
    return layouts


def save_layout(scope: Scope, edition, category: str, *, colour, label_en, label_zh,
                actor_id: int | None) -> Layout:
    """Store a category's layout (validated); audited with what changed. Both labels empty is refused: the
    band would say nothing."""
    if category not in VISITOR_CATEGORY:
        raise ServiceError(_l("No such visitor category."), "category")
    colour = clean_colour(colour)
    label_en, label_zh = clean_label(label_en, "label_en"), clean_label(label_zh, "label_zh")
    if not (label_en or label_zh):
        raise ServiceError(_l("Give the label in at least one language."), "label_en")
    row = db.session.scalar(scoped(BadgeLayout, scope).where(BadgeLayout.edition_id == edition.id,
                                                            BadgeLayout.category == category))
    before = (row.colour, row.label_en, row.label_zh) if row else None
    if row is None:
        row = BadgeLayout(organizer_id=scope.organizer_id, edition_id=edition.id, category=category)
        db.session.add(row)
    row.colour, row.label_en, row.label_zh, row.updated_by_id = colour, label_en, label_zh, actor_id
    db.session.flush()
    if before != (colour, label_en, label_zh):
        audit("badge_layout.changed", organizer_id=scope.organizer_id, user_id=actor_id, obj=row,
              details={"category": category, "colour": colour, "label_en": label_en, "label_zh": label_zh})
    return Layout(category, colour, label_en, label_zh, custom=True)


def reset_layout(scope: Scope, edition, category: str, *, actor_id: int | None) -> None:
    """Back to the defaults (the stored row goes; audited)."""
    row = db.session.scalar(scoped(BadgeLayout, scope).where(BadgeLayout.edition_id == edition.id,
                                                            BadgeLayout.category == category))
    if row is not None:
        audit("badge_layout.changed", organizer_id=scope.organizer_id, user_id=actor_id, obj=row,
              details={"category": category, "reset": True})
        db.session.delete(row)
        db.session.flush()


def face_for(registration, layout: Layout, code: str | None = None, edition_name: str | None = None
             ) -> badges.BadgeFace:
    return badges.BadgeFace(code=code or badges.badge_code(registration), name=registration.visitor_name,
                            company=registration.visitor_company, category_label=layout.printed_label,
                            edition_name=edition_name or registration.edition.name, number=f"#{registration.id}",
                            colour=layout.colour, job_title=registration.visitor_job_title)


def badge_face(registration) -> badges.BadgeFace:
    """One registration's badge as its edition's layout for its category draws it."""
    return face_for(registration, layouts_for(registration.edition)[registration.category])


_PDFIUM = threading.Lock()


def preview_png(edition, layout: Layout, language: str = "en", scale: float = 1.6) -> bytes:
    """A picture of an A6 badge in this layout with a sample visitor (for the layouts page)."""
    import pypdfium2  # only the preview needs it

    name, company, job_title = PREVIEW_NAMES["zh" if language.startswith("zh") else "en"]
    face = badges.BadgeFace(code=badges.badge_codes.sign_badge(edition.signing_key, edition.id, 1, 1), name=name,
                            company=company, category_label=layout.printed_label, edition_name=edition.name,
                            number="#1", colour=layout.colour, job_title=job_title)
    pdf = badges.badges_pdf([face])
    with _PDFIUM:  # PDFium is not thread-safe: one rendering at a time in a process (threaded servers)
        document = pypdfium2.PdfDocument(pdf)
        try:
            # to_pil() shares the bitmap's memory, which closing the document frees: copy it first
            image = document[0].render(scale=scale).to_pil().copy()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- badges in bulk -------------------------------------------------------------------------------

def printable(stmt):
    """Only confirmed registrations get badges in bulk (a pending, waitlisted or cancelled one would not
    admit), and never an erased visitor's."""
    return stmt.where(Registration.status == "confirmed", Registration.erased_at.is_(None))


def batch_count(scope: Scope, edition, filters: RegistrationFilters) -> int:
    return db.session.scalar(printable(_filtered(scope, edition, filters, func.count(Registration.id)))) or 0


def batch_faces(scope: Scope, edition, filters: RegistrationFilters, chunk: int = 1000,
                printed: list | None = None) -> Iterator[badges.BadgeFace]:
    """The badges of the filtered list in its order, read in chunks (memory stays flat), signed one by one.
    ``printed`` (a list) collects (registration id, person id) of each badge drawn."""
    layouts = layouts_for(edition)
    signing_key = edition.signing_key
    stmt = printable(_ordered(_filtered(scope, edition, filters), filters)).options(joinedload(Registration.person))
    for registration in db.session.scalars(stmt.execution_options(yield_per=chunk)):
        code = badges.badge_codes.sign_badge(signing_key, edition.id, registration.id, registration.badge_serial)
        if printed is not None:
            printed.append((registration.id, registration.person_id))
        yield face_for(registration, layouts[registration.category], code, edition.name)


def filters_params(filters: RegistrationFilters) -> dict:
    return {"q": filters.q, "category": filters.category, "status": filters.status, "source": filters.source,
            "checked_in": filters.checked_in, "sort": filters.sort}


def filters_from_params(params: dict) -> RegistrationFilters:
    from werkzeug.datastructures import MultiDict

    args = MultiDict()
    for key, value in (params or {}).items():
        for item in value if isinstance(value, list) else [value]:
            args.add(key, item)
    return RegistrationFilters.from_args(args)


def start_batch(scope: Scope, edition, filters: RegistrationFilters, fmt: str, *, actor_id: int | None,
                title: str = "", back_url: str = ""):
    """A job printing the filtered list's badges into one PDF, handed to the worker after commit."""
    from ..core import jobs
    from . import MANAGE_REGISTRATIONS
    from .badge_tasks import print_badges

    if fmt not in badges.FORMATS:
        raise ServiceError(_l("No such badge format."), "format")
    count = batch_count(scope, edition, filters)
    if not count:
        raise ServiceError(_l("No confirmed registration in this list: there is no badge to print."))
    if count > BATCH_LIMIT:
        raise ServiceError(_l("At most %(max)s badges in one PDF: narrow the list with a filter.",
                              max=f"{BATCH_LIMIT:,}"))
    job = jobs.create(BATCH_KIND, organizer_id=scope.organizer_id, user_id=actor_id, edition_id=edition.id,
                      params={"permission": MANAGE_REGISTRATIONS, "format": fmt,
                              "filters": filters_params(filters), "expected": count,
                              "title": str(title), "back_url": back_url})
    print_badges.delay(job.id)
    return job


def run_batch(job_id: int) -> int:
    """The task's work: render, save the PDF beside the job, record progress, audit the print (one entry
    with the count: printing is not a check-in). Commits through the jobs helpers and at the end."""
    from ..core import jobs
    from ..core.models import Edition, Job

    job = db.session.get(Job, job_id)
    if job is None or job.status not in ("queued", "running"):
        return 0
    params = job.params or {}
    scope = Scope(job.organizer_id)
    edition = db.session.scalar(scoped(Edition, scope).where(Edition.id == job.edition_id))
    fmt = params.get("format", badges.DEFAULT_FORMAT)
    if edition is None or fmt not in badges.FORMATS:
        jobs.fail(job_id, str(_l("The edition or the badge format is gone.")))
        return 0
    filters = filters_from_params(params.get("filters", {}))
    total = batch_count(scope, edition, filters)
    jobs.advance(job_id, 0, total=total)
    path = jobs.file_path(job, BATCH_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    printed: list[tuple[int, int]] = []
    try:
        count = badges.write_badges_pdf(batch_faces(scope, edition, filters, printed=printed), str(partial), fmt,
                                        progress=lambda done: jobs.advance(job_id, done, total=max(total, done)),
                                        title=f"{edition.name} — badges")
    except badges.BadgeFontMissing as error:
        partial.unlink(missing_ok=True)
        jobs.fail(job_id, str(error))
        return 0
    partial.replace(path)
    audit("badge.printed", organizer_id=job.organizer_id, user_id=job.user_id, object_type="editions",
          object_id=edition.id, details={"count": count, "format": fmt,
                                         "filters": filters.as_details(), "job_id": job_id})
    # each visitor's timeline says their badge was printed (as the desk's print does), in bulk inserts
    for start in range(0, len(printed), 5000):
        activity.record_many([{"kind": "badge.printed", "organizer_id": job.organizer_id, "subject_type": "person",
                               "subject_id": person_id, "edition_id": edition.id, "user_id": job.user_id,
                               "object_type": "registrations", "object_id": registration_id,
                               "details": {"edition": edition.name, "job_id": job_id}}
                              for registration_id, person_id in printed[start:start + 5000]])
    db.session.commit()
    fmt_title = badges.FORMATS[fmt].title
    jobs.finish(job_id, result={"files": [BATCH_FILE], "count": count, "format": fmt},
                message=str(_l("%(count)s badges ready: %(format)s.", count=f"{count:,}", format=fmt_title)))
    return count
