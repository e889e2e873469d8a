"""Supply-and-demand digests (R3): a mail built for each recipient from the data, sent through the campaigns
machinery (recipients snapshot once, the bounded rate, the outbox as marketing mail so an unsubscribed address
is skipped, a signed unsubscribe link, a tracked link).

Two kinds, each a campaign with ``kind`` and its settings in ``campaign.digest``:

- ``digest_visitors`` goes to the edition's *core visitors*: confirmed registrations whose visitor category the
  organizer chose (buyers and VIPs by default), and — when asked — every returning visitor (registered for an
  earlier edition of the show). Each gets the exhibitors and products added in the period in the categories they
  declared (a category counts with its sub-categories and the categories above it), and their top
  recommendations from matchmaking with the reasons, in the language of their registration.
- ``digest_exhibitors`` goes to the admins of the edition's *core exhibitors* (contracted and paid by default):
  how many registered visitors are interested in their categories (new in the period, by visitor category, by
  country — counts only, no personal data), and their top visitors to invite (as matchmaking shows them to an
  exhibitor: no contact data), in the admin's language (their account's, else Chinese for a Chinese company).

``repeat``: the beat sends the next issue of a sent digest when its period is over (``send_due``).
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select

from ..core import services as core
from ..core.db import take_write_lock, utcnow
from ..core.models import Category, Edition, User
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..exhibitors import services as exhibitor_services
from ..exhibitors.models import EXHIBITOR_STATUS, Company, Exhibitor, exhibitor_categories
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORY, Person, Registration, registration_interests
from .models import Campaign, Recipient

AUDIENCES = {"visitors": _l("Core visitors"), "exhibitors": _l("Core exhibitors")}
AUDIENCE_DESCRIPTIONS = {
    "visitors": _l("Core visitors: new exhibitors and products in their categories, their top recommendations"),
    "exhibitors": _l("Core exhibitors: buyers interested in their categories, visitors to invite")}
KIND_OF = {"visitors": "digest_visitors", "exhibitors": "digest_exhibitors"}
DEFAULT_VISITOR_CATEGORIES = ("buyer", "vip")
DEFAULT_EXHIBITOR_STATUSES = ("contracted", "paid")
CORE_EXHIBITOR_STATUSES = ("contracted", "paid", "exhibited")  # what the organizer may call "core"
MAX_LIST_ITEMS = 10  # new exhibitors / new products shown in one mail
MAX_TOP = 20


def is_digest(campaign: Campaign) -> bool:
    return campaign.kind in KIND_OF.values()


@dataclass
class DigestSettings:
    audience: str = "visitors"
    visitor_categories: list = field(default_factory=lambda: list(DEFAULT_VISITOR_CATEGORIES))
    returning: bool = True  # returning visitors are core whatever their category
    exhibitor_statuses: list = field(default_factory=lambda: list(DEFAULT_EXHIBITOR_STATUSES))
    period_days: int = 7  # "new" means added in the last period_days days; also the repetition interval
    top_n: int = 5  # recommendations in each mail
    repeat: bool = False  # the beat sends the next issue when the period is over
    series: int | None = None  # the first issue's campaign id (set by the repetition)

    @classmethod
    def from_dict(cls, data) -> DigestSettings:
        """From saved JSON or a form: unknown keys and values dropped, numbers clamped, never an error."""
        data = data if isinstance(data, dict) else {}

        def number(name, low, high, default):
            try:
                return max(low, min(high, int(data.get(name))))
            except (TypeError, ValueError):
                return default

        def codes(name, allowed, default):
            values = data.get(name)
            if not isinstance(values, (list, tuple)):
                return list(default)
            return [c for c in dict.fromkeys(str(v) for v in values[:50]) if c in allowed]

        series = data.get("series")
        return cls(audience=data.get("audience") if data.get("audience") in AUDIENCES else "visitors",
                   visitor_categories=codes("visitor_categories", VISITOR_CATEGORY.codes, DEFAULT_VISITOR_CATEGORIES),
                   returning=bool(data.get("returning", True)),
                   exhibitor_statuses=codes("exhibitor_statuses", CORE_EXHIBITOR_STATUSES, DEFAULT_EXHIBITOR_STATUSES),
                   period_days=number("period_days", 1, 90, 7), top_n=number("top_n", 0, MAX_TOP, 5),
                   repeat=bool(data.get("repeat")),
                   series=series if type(series) is int and 0 < series <= core.MAX_DB_INT else None)

    def as_dict(self) -> dict:
        return asdict(self)


def settings_of(campaign: Campaign) -> DigestSettings:
    return DigestSettings.from_dict(campaign.digest)


# --- writing ------------------------------------------------------------------------------------------

def _name(name) -> str:
    text = " ".join("".join(" " if c < " " or c == "\x7f" else c for c in (name or "")).split())[:200]
    if core.unstorable(text):
        raise ServiceError(_l("This text contains characters that cannot be stored."), "name")
    if not text:
        raise ServiceError(_l("Give the campaign a name."), "name")
    return text


def _check(settings: DigestSettings) -> None:
    if settings.audience == "visitors" and not settings.visitor_categories and not settings.returning:
        raise ServiceError(_l("Choose the visitor categories that are core, or returning visitors."),
                           "visitor_categories")
    if settings.audience == "exhibitors" and not settings.exhibitor_statuses:
        raise ServiceError(_l("Choose which exhibitors are core."), "exhibitor_statuses")


def create_digest(scope: Scope, edition: Edition, name: str, settings: DigestSettings, *,
                  actor_id: int | None = None) -> Campaign:
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    _check(settings)
    campaign = Campaign(organizer_id=scope.organizer_id, edition_id=edition.id, name=_name(name), segment={},
                        kind=KIND_OF[settings.audience], digest=settings.as_dict(), status="draft",
                        created_by_id=actor_id)
    db.session.add(campaign)
    db.session.flush()
    audit("campaign.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=campaign,
          details={"name": campaign.name})
    return campaign


def update_digest(campaign: Campaign, name: str, settings: DigestSettings, *, actor_id: int | None = None) -> None:
    if campaign.status != "draft":
        raise ServiceError(_l("Only a draft can be changed: this campaign is being sent or was sent."))
    _check(settings)
    settings.series = settings_of(campaign).series
    campaign.name = _name(name)
    campaign.kind = KIND_OF[settings.audience]
    campaign.digest = settings.as_dict()
    audit("campaign.updated", organizer_id=campaign.organizer_id, user_id=actor_id, obj=campaign,
          details={"name": campaign.name})


# --- who is core --------------------------------------------------------------------------------------

def _mailable_person():
    return and_(Person.merged_into_id.is_(None), Person.erased_at.is_(None), Person.email_key.is_not(None),
                Person.email_key != "")


def core_registrations(edition: Edition, settings: DigestSettings):
    """A SELECT of (registration id, person id, locale): one confirmed registration of the edition per core
    visitor with an address (unsubscribed addresses are left out here, and skipped again at the send)."""
    conditions = []
    if settings.visitor_categories:
        conditions.append(Registration.category.in_(settings.visitor_categories))
    if settings.returning:
        earlier = select(Edition.id).where(Edition.show_id == edition.show_id, Edition.starts_on < edition.starts_on,
                                           Edition.organizer_id == edition.organizer_id)
        older = Registration.__table__.alias("older")
        conditions.append(exists(select(older.c.id).where(older.c.person_id == Registration.person_id,
                                                         older.c.edition_id.in_(earlier),
                                                         older.c.status != "cancelled")))
    first = (select(func.min(Registration.id)).join(Person, Person.id == Registration.person_id)
             .where(Registration.organizer_id == edition.organizer_id, Registration.edition_id == edition.id,
                    Registration.status == "confirmed", Registration.erased_at.is_(None), _mailable_person(),
                    Person.email_key.not_in(core.unsubscribed_keys(edition.organizer_id)),
                    or_(*conditions) if conditions else literal(False))
             .group_by(Registration.person_id))
    return select(Registration.id, Registration.person_id, func.coalesce(Registration.locale, "en")) \
        .where(Registration.id.in_(first))


def _user_locale():
    """An exhibitor admin's mail language: their account's, else Chinese for a company in China."""
    return func.coalesce(User.locale, case((func.upper(Company.country) == "CN", "zh_CN"), else_="en"))


def core_exhibitor_admins(edition: Edition, settings: DigestSettings):
    """A SELECT of (user id, exhibitor id, locale): the active admins of the edition's core exhibitors."""
    return (select(User.id, Exhibitor.id, _user_locale())
            .join(Exhibitor, Exhibitor.id == User.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
            .where(User.organizer_id == edition.organizer_id, User.role == "exhibitor_admin", User.active.is_(True),
                   User.email != "", Exhibitor.edition_id == edition.id,
                   Exhibitor.status.in_(settings.exhibitor_statuses or ["-"]),
                   func.lower(User.email).not_in(core.unsubscribed_keys(edition.organizer_id))))


def snapshot(campaign: Campaign, edition: Edition) -> None:
    """The recipients of a digest, as they are now (called by ``services.start`` when sending begins)."""
    settings = settings_of(campaign)
    if campaign.kind == "digest_visitors":
        rows = core_registrations(edition, settings).subquery()
        chosen = select(rows.c.person_id, rows.c[2], literal(campaign.organizer_id), literal(campaign.id),
                        literal("pending"))
        columns = ["person_id", "locale", "organizer_id", "campaign_id", "status"]
    else:
        rows = core_exhibitor_admins(edition, settings).subquery()
        chosen = select(rows.c[0], rows.c[2], literal(campaign.organizer_id), literal(campaign.id),
                        literal("pending"))
        columns = ["user_id", "locale", "organizer_id", "campaign_id", "status"]
    db.session.execute(insert(Recipient).from_select(columns, chosen))


@dataclass
class Preview:
    count: int
    rows: list  # (person or user, locale)


def preview(campaign: Campaign, edition: Edition, limit: int = 20) -> Preview:
    settings = settings_of(campaign)
    if campaign.kind == "digest_visitors":
        rows = core_registrations(edition, settings).subquery()
        total = db.session.scalar(select(func.count()).select_from(rows)) or 0
        found = db.session.execute(select(Person, rows.c[2]).join(rows, rows.c.person_id == Person.id)
                                   .order_by(Person.name, Person.id).limit(limit)).all()
    else:
        rows = core_exhibitor_admins(edition, settings).subquery()
        total = db.session.scalar(select(func.count()).select_from(rows)) or 0
        found = db.session.execute(select(User, rows.c[2]).join(rows, rows.c[0] == User.id)
                                   .order_by(User.name, User.id).limit(limit)).all()
    return Preview(total, [(who, locale or "en") for who, locale in found])


def describe(campaign: Campaign, edition: Edition) -> list[str]:
    """Who gets the digest, in words (the campaign page)."""
    settings = settings_of(campaign)
    lines = [str(AUDIENCE_DESCRIPTIONS[settings.audience])]
    if settings.audience == "visitors":
        if settings.visitor_categories:
            lines.append(str(_l("Visitor category")) + ": "
                         + ", ".join(str(VISITOR_CATEGORY.label(c)) for c in settings.visitor_categories))
        if settings.returning:
            lines.append(str(_l("Returning visitors (registered for an earlier edition)")))
        lines.append(str(_l("Confirmed registrations for %(edition)s", edition=edition.name)))
    else:
        lines.append(str(_l("Admins of exhibitors that are")) + ": "
                     + ", ".join(str(EXHIBITOR_STATUS.label(s)) for s in settings.exhibitor_statuses))
    lines.append(str(_l("New means: in the last %(n)s days", n=settings.period_days)))
    if settings.top_n:
        lines.append(str(_l("Top %(n)s recommendations from matchmaking", n=settings.top_n)))
    if settings.repeat:
        lines.append(str(_l("Sent again every %(n)s days", n=settings.period_days)))
    return lines


# --- content --------------------------------------------------------------------------------------------

def related_categories(show_id: int, organizer_id: int, ids) -> set[int]:
    """The categories, their sub-categories and the categories above them (the show's tree is small)."""
    rows = db.session.execute(scoped(Category, Scope(organizer_id), Category.id, Category.parent_id)
                              .where(Category.show_id == show_id)).all()
    parent = dict(rows)
    children: dict[int | None, list[int]] = {}
    for cid, pid in rows:
        children.setdefault(pid, []).append(cid)
    found: set[int] = set()
    todo = [i for i in ids if i in parent]
    while todo:
        cid = todo.pop()
        if cid not in found:
            found.add(cid)
            todo.extend(children.get(cid, ()))
    for cid in [i for i in ids if i in parent]:
        up = parent.get(cid)
        while up is not None and up not in found:
            found.add(up)
            up = parent.get(up)
    return found


@dataclass
class Line:
    title: str
    detail: str = ""
    reasons: list = field(default_factory=list)


@dataclass
class VisitorDigest:
    name: str
    interests: list  # category names
    new_exhibitors: list  # Line
    new_products: list  # Line
    recommendations: list  # Line

    @property
    def empty(self) -> bool:
        return not (self.new_exhibitors or self.new_products or self.recommendations)


@dataclass
class ExhibitorDigest:
    company: str
    categories: list  # category names
    interested: int  # registered visitors interested in the exhibitor's categories
    interested_new: int  # of whom registered in the period
    by_category: list  # (visitor category label, count)
    by_country: list  # (country code, count)
    recommendations: list  # Line


def _booth(exhibitor: Exhibitor) -> str:
    return exhibitor.booth


def visitor_digest(registration: Registration, settings: DigestSettings, language: str,
                   now: datetime | None = None) -> VisitorDigest:
    """What one visitor's digest says (the caller sets the locale for translated words)."""
    now = now or utcnow()
    since = now - timedelta(days=settings.period_days)
    edition = db.session.get(Edition, registration.edition_id)
    interests = list(registration.interests)
    wanted = related_categories(edition.show_id, edition.organizer_id, [c.id for c in interests])
    new_exhibitors, new_products = [], []
    if wanted:
        rows = db.session.scalars(
            select(Exhibitor).join(Company, Company.id == Exhibitor.company_id)
            .where(Exhibitor.organizer_id == edition.organizer_id, Exhibitor.edition_id == edition.id,
                   Exhibitor.status.in_(exhibitor_services.PARTICIPATING_STATUSES), Exhibitor.created_at > since,
                   Exhibitor.id.in_(select(exhibitor_categories.c.exhibitor_id)
                                    .where(exhibitor_categories.c.category_id.in_(wanted))))
            .order_by(Exhibitor.created_at.desc(), Company.name).limit(MAX_LIST_ITEMS))
        new_exhibitors = [Line(e.company.name, _booth(e), [c.name for c in e.categories if c.id in wanted])
                          for e in rows]
        for exhibitor, product in exhibitor_services.new_products(edition, since, wanted)[:MAX_LIST_ITEMS]:
            detail = " · ".join(p for p in (exhibitor.company.name, _booth(exhibitor)) if p)
            new_products.append(Line(product.name(language), detail,
                                     [c.name for c in product.categories if c.id in wanted]))
    recommendations = []
    if settings.top_n:
        from ..matchmaking import services as matchmaking

        recommendations = [Line(r.name, r.booth, list(r.reasons[:2]))
                           for r in matchmaking.top_for_registration(registration, settings.top_n, locale=language)]
    person = db.session.get(Person, registration.person_id)
    from .services import safe_name

    return VisitorDigest(safe_name(person.name) or _("visitor"), [c.name for c in interests], new_exhibitors,
                         new_products, recommendations)


def exhibitor_digest(exhibitor: Exhibitor, settings: DigestSettings, language: str,
                     now: datetime | None = None) -> ExhibitorDigest:
    """What one exhibitor's digest says: counts only about visitors, then matchmaking's visitors to invite."""
    now = now or utcnow()
    since = now - timedelta(days=settings.period_days)
    edition = db.session.get(Edition, exhibitor.edition_id)
    categories = list(exhibitor.categories)
    wanted = related_categories(edition.show_id, edition.organizer_id, [c.id for c in categories])
    interested_ids = (select(Registration.id)
                      .where(Registration.organizer_id == edition.organizer_id, Registration.edition_id == edition.id,
                             Registration.status == "confirmed", Registration.erased_at.is_(None),
                             Registration.id.in_(select(registration_interests.c.registration_id)
                                                 .where(registration_interests.c.category_id.in_(wanted or [-1])))))
    rows = db.session.execute(select(Registration.category, Person.country, Registration.created_at)
                              .join(Person, Person.id == Registration.person_id)
                              .where(Registration.id.in_(interested_ids))).all()
    by_category = Counter(category for category, _country, _at in rows)
    by_country = Counter(country for _category, country, _at in rows if country)
    since_naive = since.replace(tzinfo=None)
    new = sum(1 for _c, _n, at in rows if at is not None and at.replace(tzinfo=None) > since_naive)
    recommendations = []
    if settings.top_n:
        from ..matchmaking import services as matchmaking

        recommendations = [Line(r.name, "", list(r.reasons[:2]))
                           for r in matchmaking.top_for_exhibitor(exhibitor, settings.top_n, locale=language)]
    return ExhibitorDigest(exhibitor.company.name, [c.name for c in categories], len(rows), new,
                           [(str(VISITOR_CATEGORY.label(c)), n) for c, n in by_category.most_common()],
                           by_country.most_common(5), recommendations)


# --- the mail ---------------------------------------------------------------------------------------------

def _width(text: str) -> int:
    """Columns the text takes in a fixed-width font (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _text(sections: list[tuple[str, list[str]]]) -> str:
    out = []
    for title, lines in sections:
        out.append(title)
        out.append("=" * min(60, max(4, _width(title))))
        out.extend(lines)
        out.append("")
    return "\n".join(out)


def _lines(items: list[Line]) -> list[str]:
    out = []
    for n, item in enumerate(items, 1):
        out.append(f"{n}. {item.title}" + (f" ({item.detail})" if item.detail else ""))
        out.extend(f"   - {reason}" for reason in item.reasons)
    return out


def render(campaign: Campaign, edition: Edition, recipient: Recipient, *, base: str,
           now: datetime | None = None) -> tuple[str, str, str] | None:
    """(subject, plain text, HTML) of one recipient's digest in their language, or None when there is nothing to
    mail them (their registration or exhibitor is gone)."""
    from .services import link_token, mail_language, unsubscribe_token

    settings = settings_of(campaign)
    language = mail_language(recipient.locale)
    link = f"{base}/d/{link_token(recipient.id)}"
    unsubscribe_url = f"{base}/u/{unsubscribe_token(campaign.id, recipient.person_id, user_id=recipient.user_id)}"
    show = edition.show.name
    with force_locale(language):
        if campaign.kind == "digest_visitors":
            registration = _registration(edition, recipient.person_id)
            if registration is None:
                return None
            content = visitor_digest(registration, settings, language, now)
            subject = _("%(show)s: what is new for you", show=show)
            intro = _("Dear %(name)s, here is what is new at %(edition)s in the categories you chose (%(categories)s).",
                      name=content.name, edition=edition.name,
                      categories=", ".join(content.interests) or _("none chosen yet"))
            sections = [(_("New exhibitors in your categories"), content.new_exhibitors),
                        (_("New products in your categories"), content.new_products),
                        (_("Exhibitors we recommend you meet"), content.recommendations)]
            empty = _("Nothing new in your categories this time.")
            action = _("Your page: badge, recommendations and meetings")
            figures = []
            footer = _("You receive this digest as a visitor of %(show)s. To receive no more of these mails: "
                       "%(url)s", show=show, url=unsubscribe_url)
        else:
            user = db.session.get(User, recipient.user_id)
            exhibitor = db.session.get(Exhibitor, user.exhibitor_id) if user is not None else None
            if exhibitor is None:
                return None
            content = exhibitor_digest(exhibitor, settings, language, now)
            subject = _("%(show)s: buyers interested in your categories", show=show)
            intro = _("Dear %(company)s team, here is who registered for %(edition)s with an interest in your "
                      "categories (%(categories)s).", company=content.company, edition=edition.name,
                      categories=", ".join(content.categories) or _("none chosen yet"))
            figures = [_("%(n)s registered visitors are interested in your categories, %(new)s of them in the last "
                         "%(days)s days.", n=content.interested, new=content.interested_new,
                         days=settings.period_days)]
            if content.by_category:
                figures.append(_("By visitor category: %(list)s",
                                 list=", ".join(f"{label} {n}" for label, n in content.by_category)))
            if content.by_country:
                figures.append(_("Top countries: %(list)s", list=", ".join(f"{c} {n}" for c, n in content.by_country)))
            sections = [(_("Visitors we recommend you invite"), content.recommendations)]
            empty = _("No recommendations yet.")
            action = _("Open your exhibitor portal")
            footer = _("You receive this digest as an exhibitor of %(show)s. To receive no more of these mails: "
                       "%(url)s", show=show, url=unsubscribe_url)
        shown = [(title, items) for title, items in sections if items]
        text_sections = [(title, _lines(items)) for title, items in shown]
        body = "\n\n".join([intro, *figures]) + "\n\n" + (_text(text_sections) if shown else empty + "\n")
        text = f"{body}\n{action}: {link}\n\n-- \n{footer}\n"
        html = render_template("campaigns/digest_mail.html", intro=intro, figures=figures, sections=shown,
                               empty=empty if not shown else None, action=action, link=link,
                               unsubscribe_url=unsubscribe_url, show=show, edition=edition,
                               lang="zh-CN" if language == "zh_CN" else "en")
    return subject[:300], text, html


def _registration(edition: Edition, person_id: int | None) -> Registration | None:
    if person_id is None:
        return None
    return db.session.scalar(select(Registration).where(
        Registration.edition_id == edition.id, Registration.person_id == person_id,
        Registration.status != "cancelled", Registration.erased_at.is_(None)).order_by(Registration.id).limit(1))


def link_target(recipient: Recipient, edition: Edition) -> str:
    """Where a digest's tracked link leads: the visitor's own page, or the exhibitor portal."""
    registration = _registration(edition, recipient.person_id)
    if registration is not None:
        return f"/r/{registration.access_key}"
    if recipient.user_id is not None:
        return "/portal"
    return f"/e/{edition.slug}/exhibitors"


def sample(campaign: Campaign, edition: Edition, base: str) -> list[tuple[str, str, str]]:
    """The digest as the first recipient of the preview would read it, in English and in Chinese:
    [(language label, subject, text)] (the campaign page, before sending)."""
    from .services import _base_url

    rows = preview(campaign, edition, limit=1).rows
    if not rows:
        return []
    base = (base or _base_url(campaign)).rstrip("/")
    who, _locale = rows[0]
    out = []
    for locale, label in (("en", "English"), ("zh_CN", "中文")):
        fake = Recipient(id=0, organizer_id=campaign.organizer_id, campaign_id=campaign.id, locale=locale,
                         person_id=who.id if isinstance(who, Person) else None,
                         user_id=who.id if isinstance(who, User) else None)
        rendered = render(campaign, edition, fake, base=base)
        if rendered is not None:
            out.append((label, rendered[0], rendered[1]))
    return out


# --- repetition -------------------------------------------------------------------------------------------

def due(now: datetime | None = None) -> list[int]:
    """Sent digests set to repeat whose period is over and that are the latest issue of their series."""
    now = now or utcnow()
    out = []
    for campaign in db.session.scalars(select(Campaign).where(Campaign.kind.in_(KIND_OF.values()),
                                                              Campaign.status == "sent")
                                       .order_by(Campaign.id)):
        settings = settings_of(campaign)
        if not settings.repeat or campaign.finished_at is None:
            continue
        if campaign.finished_at.replace(tzinfo=None) > (now - timedelta(days=settings.period_days)).replace(tzinfo=None):
            continue
        if _latest_of_series(campaign, settings):
            out.append(campaign.id)
    return out


def _latest_of_series(campaign: Campaign, settings: DigestSettings) -> bool:
    series = settings.series or campaign.id
    later = db.session.scalars(select(Campaign.digest).where(
        Campaign.organizer_id == campaign.organizer_id, Campaign.kind == campaign.kind, Campaign.id > campaign.id))
    return not any(DigestSettings.from_dict(d).series == series for d in later)


def next_issue(campaign: Campaign, now: datetime | None = None) -> Campaign:
    """A copy of a sent digest (same edition, settings and series), named with today's date."""
    now = now or utcnow()
    settings = settings_of(campaign)
    settings.series = settings.series or campaign.id
    base_name = campaign.name.split(" · ")[0]
    issue = Campaign(organizer_id=campaign.organizer_id, edition_id=campaign.edition_id,
                     name=f"{base_name} · {now.date().isoformat()}"[:200], segment={}, kind=campaign.kind,
                     digest=settings.as_dict(), status="draft", created_by_id=campaign.created_by_id,
                     link_base=campaign.link_base)
    db.session.add(issue)
    db.session.flush()
    audit("campaign.created", organizer_id=campaign.organizer_id, obj=issue, details={"name": issue.name})
    return issue


def send_due(now: datetime | None = None) -> list[int]:
    """The beat: start the next issue of every digest that is due. Returns the new campaigns' ids."""
    from . import services

    take_write_lock(db.session)  # SQLite: one writer decides at a time
    started = []
    for campaign_id in due(now):
        # Two beats at once (two beat processes, or a manual run beside the beat): the previous issue's row lock
        # lets one of them start the next issue; the other then sees it and starts none (tested on PostgreSQL).
        previous = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                                     .execution_options(populate_existing=True))
        if previous is None or not _latest_of_series(previous, settings_of(previous)):
            continue
        issue = next_issue(previous, now)
        services.start(issue, link_base=previous.link_base)
        started.append(issue.id)
    return started


# --- the tracked link -------------------------------------------------------------------------------------

def open_link(token) -> str | None:
    """A digest's link was opened (``/d/<token>``): recorded once (the campaign report's "opened"), and the
    path it leads to; None for a forged token or one of another kind of campaign."""
    from . import services

    recipient = services.recipient_for_link(token)
    if recipient is None:
        return None
    campaign = db.session.get(Campaign, recipient.campaign_id)
    if campaign is None or not is_digest(campaign) or campaign.organizer_id != recipient.organizer_id:
        return None
    services.mark_opened(campaign, recipient)
    return link_target(recipient, db.session.get(Edition, campaign.edition_id))
