"""Win-back campaigns: a selection of the churn watch list (postshow.watchlist, read through its hook
``churn_watch_list``) mailed through the campaigns module, and the effect measured at the show's next edition.

``create_winback`` takes the organizer's ticked ids and the watch list as it is now: only ids on that list are
kept (anything else — forged, of another organizer, garbage — is ignored), optionally 10% of them are drawn at
random and kept back (the holdout), and the campaign is made as a draft of kind "winback" whose recipients are
the chosen customers, each once: a visitor is the person; an exhibitor company is mailed at its exhibitor admins'
accounts (of its latest participation up to the held
edition), or its main contact when it has no admin with an address. ``settings`` keeps the
kind, the held edition, the mailed ids, the holdout and the rest of the watch list, so ``effect`` can compare, at
the target edition, how many of the mailed rebooked / returned against the watch list's customers not mailed.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core import registry as core_registry
from ..core import services as core
from ..core.models import Edition, User
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, CompanyContact, Exhibitor
from ..extensions import db
from ..onsite import services as onsite
from ..visitors.models import Person, Registration
from . import services
from .models import Campaign, Recipient

HOLDOUT_SHARE = 0.10
MAX_SELECTION = 5000  # ids in one request: more is a hand-made request, cut
AUDIENCE = {"exhibitor": _l("Exhibitor companies"), "visitor": _l("Visitors (people)")}


def parse_ids(values, limit: int = MAX_SELECTION) -> list[int]:
    """Form values as distinct positive ids, garbage dropped, at most ``limit``."""
    out, seen = [], set()
    for value in list(values or [])[: limit * 2]:
        text = str(value).strip()
        if not text.isdigit() or len(text) > 12:
            continue
        number = int(text)
        if 0 < number <= core.MAX_DB_INT and number not in seen:
            seen.add(number)
            out.append(number)
            if len(out) >= limit:
                break
    return out


# --- the watch list (postshow, through its hook) and the editions -------------------------------------------

def watch_list(scope: Scope, held: Edition, kind: str) -> list:
    """The held edition's churn watch list (postshow.watchlist.watch_list, the hook ``churn_watch_list``)."""
    for hook in core_registry.registry.hook("churn_watch_list"):
        return list(hook(scope, held, kind) or [])
    return []


def held_edition(edition: Edition) -> Edition | None:
    """The edition a watch list looks back on: this one once closed, else the show's previous one."""
    return edition if edition.status == "closed" else core.previous_edition(edition)


def next_edition(edition: Edition) -> Edition | None:
    """The show's edition after this one: where a win-back's effect is measured."""
    return db.session.scalar(scoped(Edition, Scope(edition.organizer_id))
                             .where(Edition.show_id == edition.show_id, Edition.starts_on > edition.starts_on)
                             .order_by(Edition.starts_on).limit(1))


def default_texts(kind: str, held: Edition, target: Edition | None) -> dict:
    """The prefilled mail in both languages ({name} and {link} are filled per recipient)."""
    show = held.show.name
    next_name = target.name if target is not None else show
    with force_locale("en"):
        if kind == "exhibitor":
            subject_en = _("We would like to welcome you back at %(edition)s", edition=next_name)
            body_en = _("Dear {name},\n\nthank you for exhibiting at %(held)s. We know not everything went as you "
                        "hoped, and we would like to do better at %(edition)s: your account manager will call you "
                        "with a proposal that fits what you told us.\n\nThe show: {link}\n\nKind regards",
                        held=held.name, edition=next_name)
        else:
            subject_en = _("An invitation to %(edition)s", edition=next_name)
            body_en = _("Dear {name},\n\nthank you for visiting %(held)s. We are preparing %(edition)s with the "
                        "exhibitors you are looking for, and would be glad to see you again.\n\nRegister here: "
                        "{link}\n\nKind regards", held=held.name, edition=next_name)
    with force_locale("zh_CN"):
        if kind == "exhibitor":
            subject_zh = _("We would like to welcome you back at %(edition)s", edition=next_name)
            body_zh = _("Dear {name},\n\nthank you for exhibiting at %(held)s. We know not everything went as you "
                        "hoped, and we would like to do better at %(edition)s: your account manager will call you "
                        "with a proposal that fits what you told us.\n\nThe show: {link}\n\nKind regards",
                        held=held.name, edition=next_name)
        else:
            subject_zh = _("An invitation to %(edition)s", edition=next_name)
            body_zh = _("Dear {name},\n\nthank you for visiting %(held)s. We are preparing %(edition)s with the "
                        "exhibitors you are looking for, and would be glad to see you again.\n\nRegister here: "
                        "{link}\n\nKind regards", held=held.name, edition=next_name)
    name = _l("Win-back %(audience)s · %(edition)s", audience=AUDIENCE[kind], edition=held.name)
    return {"name": str(name), "subject_en": subject_en, "body_en": body_en, "subject_zh": subject_zh,
            "body_zh": body_zh}


def create_winback(scope: Scope, held: Edition, kind: str, chosen, watch: list, *, holdout: bool = False,
                   actor_id: int | None = None, rng: random.Random | None = None) -> Campaign:
    """A draft win-back campaign to the chosen customers of ``watch`` (the WatchRows of the held edition)."""
    if held.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    if kind not in AUDIENCE:
        raise ServiceError(_l("Choose exhibitors or visitors."))
    on_list = [row.subject_id for row in watch]
    wanted = set(parse_ids(chosen))
    selected = [i for i in on_list if i in wanted]
    if not selected:
        raise ServiceError(_l("Tick at least one customer of the watch list."))
    kept_back: list[int] = []
    if holdout and len(selected) >= 2:
        size = max(1, round(len(selected) * HOLDOUT_SHARE))
        kept_back = sorted((rng or random.SystemRandom()).sample(selected, size))
    mailed = [i for i in selected if i not in kept_back]
    rest = [i for i in on_list if i not in wanted]
    target = next_edition(held)
    campaign = Campaign(organizer_id=scope.organizer_id, edition_id=held.id, kind="winback", status="draft",
                        target_edition_id=target.id if target else None, segment={}, created_by_id=actor_id,
                        settings={"audience": kind, "mailed": mailed, "holdout": kept_back, "rest": rest,
                                  "holdout_asked": bool(holdout)},
                        **default_texts(kind, held, target))
    db.session.add(campaign)
    db.session.flush()
    missing = _add_recipients(campaign, held, kind, mailed)
    campaign.settings = {**campaign.settings, "no_address": missing}
    audit("campaign.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=campaign,
          details={"name": campaign.name, "recipients": len(mailed)})
    return campaign


def _add_recipients(campaign: Campaign, held: Edition, kind: str, ids: list[int]) -> list[int]:
    """The recipients of the chosen customers; returns the ids of those who have no address to mail."""
    scope = Scope(campaign.organizer_id)
    rows: list[Recipient] = []
    missing: list[int] = []
    if kind == "visitor":
        locales = dict(db.session.execute(
            select(Registration.person_id, Registration.locale).where(
                Registration.organizer_id == scope.organizer_id, Registration.person_id.in_(ids or [-1]))
            .order_by(Registration.created_at, Registration.id)).all())
        people = {p.id: p for p in db.session.scalars(scoped(Person, scope).where(
            Person.id.in_(ids or [-1]), Person.erased_at.is_(None), Person.merged_into_id.is_(None)))}
        for person_id in ids:
            person = people.get(person_id)
            if person is None or not person.email:
                missing.append(person_id)
                continue
            rows.append(Recipient(organizer_id=scope.organizer_id, campaign_id=campaign.id, person_id=person_id,
                                  locale=locales.get(person_id) or "en", status="pending"))
    else:
        # The admins of the company's latest participation up to the held edition that has any.
        admins = db.session.execute(
            select(Exhibitor.company_id, Exhibitor.id, User).join(User, User.exhibitor_id == Exhibitor.id)
            .join(Edition, Edition.id == Exhibitor.edition_id)
            .where(Exhibitor.organizer_id == scope.organizer_id, Edition.show_id == held.show_id,
                   Edition.starts_on <= held.starts_on, Exhibitor.company_id.in_(ids or [-1]),
                   User.organizer_id == scope.organizer_id, User.role == "exhibitor_admin", User.active.is_(True),
                   User.email != "")
            .order_by(Edition.starts_on.desc(), User.id)).all()
        by_company: dict[int, list] = {}
        latest: dict[int, int] = {}
        for company_id, exhibitor_id, user in admins:
            if latest.setdefault(company_id, exhibitor_id) == exhibitor_id:
                by_company.setdefault(company_id, []).append(user)
        contacts: dict[int, CompanyContact] = {}
        for contact in db.session.scalars(scoped(CompanyContact, scope).where(
                CompanyContact.company_id.in_(ids or [-1]), CompanyContact.email != "")
                .order_by(CompanyContact.is_main.desc(), CompanyContact.id)):
            contacts.setdefault(contact.company_id, contact)
        countries = dict(db.session.execute(scoped(Company, scope, Company.id, Company.country)
                                            .where(Company.id.in_(ids or [-1]))).all())
        for company_id in ids:
            fallback = "zh_CN" if countries.get(company_id) in ("CN", "TW", "HK", "MO", "SG") else "en"
            users = by_company.get(company_id)
            if users:
                for user in users:
                    rows.append(Recipient(organizer_id=scope.organizer_id, campaign_id=campaign.id, user_id=user.id,
                                          company_id=company_id, locale=user.locale or fallback, status="pending"))
            elif company_id in contacts:
                rows.append(Recipient(organizer_id=scope.organizer_id, campaign_id=campaign.id,
                                      contact_id=contacts[company_id].id, company_id=company_id, locale=fallback,
                                      status="pending"))
            else:
                missing.append(company_id)
    db.session.add_all(rows)
    db.session.flush()
    campaign.recipient_count = len(rows)
    return missing


def audience(campaign: Campaign) -> str:
    return (campaign.settings or {}).get("audience") if (campaign.settings or {}).get("audience") in AUDIENCE \
        else "visitor"


def describe(campaign: Campaign) -> list[str]:
    """Who gets it, in words (the campaign page)."""
    settings = campaign.settings or {}
    edition = campaign.edition
    lines = [str(_l("Win-back: %(audience)s of the churn watch list after %(edition)s",
                    audience=AUDIENCE[audience(campaign)], edition=edition.name)),
             str(_l("%(n)s chosen and mailed", n=len(settings.get("mailed") or [])))]
    if settings.get("holdout_asked"):
        lines.append(str(_l("%(n)s kept back at random to measure the effect", n=len(settings.get("holdout") or []))))
    if settings.get("rest"):
        lines.append(str(_l("%(n)s on the watch list not chosen", n=len(settings["rest"]))))
    if settings.get("no_address"):
        lines.append(str(_l("%(n)s without an address to mail", n=len(settings["no_address"]))))
    target = campaign.target_edition
    lines.append(str(_l("Effect measured at %(edition)s", edition=target.name)) if target is not None
                 else str(_l("The effect is measured once the next edition exists")))
    return lines


def preview_rows(campaign: Campaign, limit: int = services.PREVIEW_ROWS) -> services.Preview:
    """The draft's recipients (they were chosen when it was made) as the campaign page's preview."""
    total = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id)) or 0
    rows = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)
                              .options(*services.ADDRESSEES).order_by(Recipient.id).limit(limit))
    return services.Preview(total, [(r.addressee, r.locale or "en") for r in rows if r.addressee is not None])


# --- the mail ---------------------------------------------------------------------------------------

def render(campaign: Campaign, edition: Edition, recipient: Recipient):
    """(subject, text, HTML) of one win-back mail: the visitor's link registers for the target edition through
    the campaign (tracked); an exhibitor's goes to the target edition's page."""
    target = campaign.target_edition or edition
    base = services._base_url(campaign)
    addressee = recipient.addressee
    if recipient.person_id is not None:
        link = f"{base}/e/{target.slug}?c={services.link_token(recipient.id)}"
        unsubscribe = services.unsubscribe_token(campaign.id, recipient.person_id)
    elif recipient.user_id is not None:
        link = f"{base}/e/{target.slug}"
        unsubscribe = services.unsubscribe_token(campaign.id, None, user_id=recipient.user_id)
    else:
        link = f"{base}/e/{target.slug}"
        unsubscribe = services.contact_unsubscribe_token(campaign.id, recipient.contact_id)
    return compose(campaign, edition, recipient.locale, addressee.name, link,
                            f"{base}/u/{unsubscribe}", exhibitor=recipient.person_id is None)


def compose(campaign: Campaign, edition: Edition, locale: str | None, name: str | None, link: str,
            unsubscribe_url: str, *, exhibitor: bool = False, subject_prefix=None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a campaign's written mail for any addressee (win-back, survey
    invitations): {name} and {link} filled, the unsubscribe line at the end."""
    language = services.mail_language(locale)
    subject, body = services._texts(campaign, language)
    with force_locale(language):
        name = services.safe_name(name) or (_("exhibitor") if exhibitor else _("visitor"))
        if "{link}" not in body:
            body = f"{body}\n\n{{link}}"
        text = body.replace("{name}", name).replace("{link}", link)
        if exhibitor:
            footer = _("You receive this mail as an exhibitor of %(show)s. To receive no more of these mails: %(url)s",
                       show=edition.show.name, url=unsubscribe_url)
        else:
            footer = _("You receive this mail as a visitor of %(show)s. To receive no more of these mails: %(url)s",
                       show=edition.show.name, url=unsubscribe_url)
        text = f"{text}\n\n-- \n{footer}\n"
        paragraphs = [services._html_paragraph(part, name, link) for part in re.split(r"\n\s*\n", body)
                      if part.strip()]
        html = render_template("campaigns/mail.html", paragraphs=paragraphs, edition=edition,
                               unsubscribe_url=unsubscribe_url, show=edition.show.name, exhibitor=exhibitor,
                               lang="zh-CN" if language == "zh_CN" else "en")
        subject = subject.replace("{name}", name)
        if subject_prefix:
            subject = f"{subject_prefix} {subject}"
    return services._one_line(subject)[:300], text, html


# --- the effect -------------------------------------------------------------------------------------

@dataclass
class Group:
    size: int
    back: int  # rebooked (exhibitors) / registered again (visitors)
    attended: int | None = None  # visitors: checked in at the target edition

    @property
    def rate(self) -> float | None:
        return self.back / self.size if self.size else None


@dataclass
class Effect:
    audience: str
    target: Edition | None
    mailed: Group
    not_mailed: Group  # the rest of the watch list: not chosen + kept back
    holdout: Group

    @property
    def difference_pp(self) -> float | None:
        if self.mailed.rate is None or self.not_mailed.rate is None:
            return None
        return round((self.mailed.rate - self.not_mailed.rate) * 100, 1)


def _came_back(campaign: Campaign, target: Edition, kind: str, ids: list[int]) -> tuple[set[int], set[int]]:
    """(ids that rebooked / registered at the target edition, ids that checked in there)."""
    if not ids:
        return set(), set()
    scope = Scope(campaign.organizer_id)
    if kind == "exhibitor":
        booked = set(db.session.scalars(scoped(Exhibitor, scope, Exhibitor.company_id).where(
            Exhibitor.edition_id == target.id, Exhibitor.company_id.in_(ids),
            Exhibitor.status.in_(PARTICIPATING_STATUSES))))
        return booked, set()
    registered = dict(db.session.execute(scoped(Registration, scope, Registration.id, Registration.person_id).where(
        Registration.edition_id == target.id, Registration.person_id.in_(ids),
        Registration.status != "cancelled")).all())
    admitted = set(db.session.scalars(onsite.checked_in_registrations(target.id)))
    return set(registered.values()), {person for reg, person in registered.items() if reg in admitted}


def effect(campaign: Campaign) -> Effect | None:
    """The win-back's measured effect at its target edition (None: not a win-back). The target is resolved
    when the campaign is read if the next edition did not exist when it was made."""
    if campaign.kind != "winback":
        return None
    settings = campaign.settings or {}
    kind = audience(campaign)
    target = campaign.target_edition
    if target is None:
        target = next_edition(campaign.edition)
        if target is not None:
            campaign.target_edition_id = target.id
    mailed = [i for i in settings.get("mailed") or [] if isinstance(i, int)]
    holdout = [i for i in settings.get("holdout") or [] if isinstance(i, int)]
    rest = [i for i in settings.get("rest") or [] if isinstance(i, int)] + holdout
    # mailed means a mail went out: a customer chosen with no address, unsubscribed, or not sent yet was not
    # reached (and is in neither group: chosen, so not a fair comparison either)
    sent = set(db.session.scalars(
        select(Recipient.person_id if kind == "visitor" else Recipient.company_id).where(
            Recipient.campaign_id == campaign.id, Recipient.status == "sent")))
    mailed = [i for i in mailed if i in sent]
    if target is None:
        return Effect(kind, None, Group(len(mailed), 0), Group(len(rest), 0), Group(len(holdout), 0))
    back, attended = _came_back(campaign, target, kind, mailed + rest)
    visitor = kind == "visitor"

    def group(ids):
        return Group(len(ids), len(back.intersection(ids)), len(attended.intersection(ids)) if visitor else None)

    return Effect(kind, target, group(mailed), group(rest), group(holdout))


# --- demo ---------------------------------------------------------------------------------------------

def demo(world) -> None:
    """The campaigns module's demo, then one win-back campaign to the closed edition's churn watch list (the
    exhibitors', or the visitors' when too few exhibitors are on it), sent two weeks after that edition with 10%
    kept back; its report shows the effect measured at the live edition. Rows are written directly (no mail)."""
    import logging
    from datetime import datetime, time, timedelta, timezone

    from sqlalchemy import update

    from .demo import contribute

    contribute(world)
    if len(world.editions) < 2:
        return
    closed = world.editions[-2]
    for kind in ("exhibitor", "visitor"):
        rows = watch_list(world.scope, closed, kind)
        logging.getLogger(__name__).info("demo watch list %s %s: %s rows", closed.name, kind, len(rows))
        if len(rows) < 2:
            continue
        chosen = [r.subject_id for r in rows[: max(2, len(rows) * 4 // 5)]]  # the organizer left a few out
        campaign = create_winback(world.scope, closed, kind, chosen, rows, holdout=True, rng=world.rng,
                                  actor_id=world.user_ids.get("manager"))
        ended = datetime.combine(closed.ends_on, time(10), tzinfo=timezone.utc)
        sent_at = min(ended + timedelta(days=14), world.now - timedelta(days=1))
        campaign.created_at = sent_at - timedelta(hours=3)
        db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id)
                           .values(status="sent", sent_at=sent_at).execution_options(synchronize_session=False))
        campaign.status, campaign.started_at = "sent", sent_at
        campaign.finished_at = campaign.last_batch_at = sent_at + timedelta(minutes=1)
        db.session.flush()
        break
    _survey_demo(world, closed)


def _survey_demo(world, closed: Edition) -> None:
    """The closed edition's visitor survey invitation: sent the day after the show, its one reminder a week
    later to those who had not answered (rows written directly, no mail)."""
    from datetime import datetime, time, timedelta, timezone

    from sqlalchemy import update

    from ..surveys import services as surveys
    from ..surveys.models import Survey
    from . import survey_mail

    survey = db.session.scalar(select(Survey).where(Survey.organizer_id == world.organizer.id,
                                                    Survey.edition_id == closed.id, Survey.audience == "visitor")
                               .order_by(Survey.id).limit(1))
    if survey is None:
        return
    sent_at = datetime.combine(closed.ends_on + timedelta(days=1), time(2), tzinfo=timezone.utc)
    title = survey_mail._title(survey, "en")
    texts = {}
    for language, suffix in (("en", "en"), ("zh_CN", "zh")):
        with force_locale(language):
            texts[f"subject_{suffix}"] = _("Your opinion on %(edition)s", edition=closed.name)
            texts[f"body_{suffix}"] = _("Dear {name},\n\nthank you for taking part in %(edition)s. Tell us in a few "
                                        "minutes what went well and what we should do better: %(survey)s\n\n{link}\n\n"
                                        "Kind regards", edition=closed.name, survey=survey_mail._title(survey, language))
    campaign = Campaign(organizer_id=world.organizer.id, edition_id=closed.id, kind="survey", status="sent",
                        segment={}, name=str(_l("Survey: %(title)s", title=title))[:200],
                        created_by_id=world.user_ids.get("manager"), created_at=sent_at - timedelta(hours=2),
                        settings={"survey_id": survey.id, "audience": "visitor", "remind_after_days": 7}, **texts)
    db.session.add(campaign)
    db.session.flush()
    survey_mail.snapshot(campaign, closed)
    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id)
                       .values(status="sent", sent_at=sent_at).execution_options(synchronize_session=False))
    campaign.recipient_count = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id))
    campaign.started_at = sent_at
    campaign.finished_at = campaign.last_batch_at = sent_at + timedelta(minutes=campaign.recipient_count // 60 + 1)
    reminded_at = campaign.finished_at + timedelta(days=7)
    if reminded_at < world.now:
        answered = surveys.responded(survey)
        persons = select(Registration.person_id).where(Registration.edition_id == closed.id,
                                                       Registration.id.in_(answered or [-1]))
        db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id,
                                                   Recipient.person_id.not_in(persons))
                           .values(reminded_at=reminded_at).execution_options(synchronize_session=False))
        campaign.reminder_sent_at = reminded_at
    db.session.flush()
