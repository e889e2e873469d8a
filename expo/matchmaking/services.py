"""Recommendations as a product: the organizer's settings and exclusions, runs of the engine over an edition
(stored top N both ways with the signals' contributions and the reasons), and reading them back for the
visitor's page, the exhibitor portal, the organizer, the API, the CLI and the digests.

Plain functions, no request state; they flush, the caller commits. The engine (engine.py, features.py) is pure:
this file feeds it the edition's exclusions and weights and stores what it answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import joinedload

from ..core.db import take_write_lock, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..exhibitors.models import WITHDRAWN_STATUSES, Company, Exhibitor, exhibitor_categories
from ..extensions import db
from ..leads.models import Lead
from ..visitors import services as visitor_services
from ..visitors.models import VISITOR_CATEGORY, Person, Registration
from . import explain
from .models import (
    EXCLUSION_REASON,
    FOR_EXHIBITOR,
    FOR_VISITOR,
    TOP_N,
    MatchmakingExclusion,
    MatchmakingSettings,
    Recommendation,
)

# The engine's signals and default weights (engine.DEFAULT_WEIGHTS; kept here so that reading settings imports no
# numpy). Weights are relative: the engine normalises them to a sum of 1.
DEFAULT_WEIGHTS = {"category": 0.4, "text": 0.3, "profile": 0.1, "history": 0.2}
MAX_WEIGHT = 5.0
# Registrations that never get recommendations (nor are recommended): cancelled ones, and erased visitors.
INACTIVE_STATUSES = ("cancelled",)


# --- settings -------------------------------------------------------------------------------------------

def settings_for(edition: Edition, *, create: bool = False) -> MatchmakingSettings:
    """The edition's settings row; an unsaved one with the defaults when there is none (``create``: stored, safe
    when two first runs or saves of the edition create it at once: INSERT … ON CONFLICT DO NOTHING, then read)."""
    query = select(MatchmakingSettings).where(MatchmakingSettings.edition_id == edition.id,
                                              MatchmakingSettings.organizer_id == edition.organizer_id)
    row = db.session.scalar(query)
    if row is None:
        values = dict(organizer_id=edition.organizer_id, edition_id=edition.id, weights={},
                      exclude_competitors=True, exclude_met=True, exclude_met_before=False, top_n=TOP_N,
                      status="idle", computed_rows=0, last_error="")
        if not create:
            return MatchmakingSettings(**values)
        take_write_lock(db.session)  # SQLite: wait for the other creator's commit, then read what it wrote
        dialect = db.session.connection().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        db.session.execute(upsert(MatchmakingSettings).values(**values, updated_at=utcnow())
                           .on_conflict_do_nothing(index_elements=["edition_id"]))
        row = db.session.scalar(query)
    return row


def weights_of(settings: MatchmakingSettings) -> dict[str, float]:
    """Every signal's weight: the organizer's where set, else the default."""
    stored = settings.weights or {}
    return {name: float(stored.get(name, default)) for name, default in DEFAULT_WEIGHTS.items()}


@dataclass
class SettingsInput:
    weights: dict = field(default_factory=dict)
    exclude_competitors: bool = True
    exclude_met: bool = True
    exclude_met_before: bool = False
    top_n: int = TOP_N

    @classmethod
    def from_form(cls, form) -> SettingsInput:
        return cls(weights={name: form.get(f"weight_{name}", "") for name in DEFAULT_WEIGHTS},
                   exclude_competitors=form.get("exclude_competitors") == "1",
                   exclude_met=form.get("exclude_met") == "1",
                   exclude_met_before=form.get("exclude_met_before") == "1", top_n=form.get("top_n", TOP_N))


class SettingsErrors(ServiceError):
    def __init__(self, errors: dict):
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


def save_settings(edition: Edition, data: SettingsInput, *, actor_id: int | None = None) -> bool:
    """Check and store the organizer's weights and rules (audited); True when something changed. A weight is a
    number from 0 (the signal is ignored) to 5; at least one must be above 0."""
    errors, weights = {}, {}
    for name in DEFAULT_WEIGHTS:
        raw = data.weights.get(name, "")
        try:
            value = float(str(raw).replace(",", ".")) if str(raw).strip() != "" else DEFAULT_WEIGHTS[name]
        except ValueError:
            errors[f"weight_{name}"] = str(_l("Enter a number from 0 to 5."))
            continue
        if not 0 <= value <= MAX_WEIGHT or value != value:
            errors[f"weight_{name}"] = str(_l("Enter a number from 0 to 5."))
            continue
        weights[name] = round(value, 2)
    if not errors and not any(weights.values()):
        errors["weight_category"] = str(_l("At least one signal needs a weight above 0."))
    raw_top = str(data.top_n).strip() if data.top_n is not None else ""
    top_n = int(raw_top) if raw_top.isascii() and raw_top.isdecimal() and len(raw_top) <= 3 else -1  # "٣" is no 3
    if not 1 <= top_n <= 50:
        errors["top_n"] = str(_l("Enter a whole number from 1 to 50."))
    if errors:
        raise SettingsErrors(errors)
    settings = settings_for(edition, create=True)
    before = {"weights": weights_of(settings), "exclude_competitors": settings.exclude_competitors,
              "exclude_met": settings.exclude_met, "exclude_met_before": settings.exclude_met_before,
              "top_n": settings.top_n}
    after = {"weights": weights, "exclude_competitors": bool(data.exclude_competitors),
             "exclude_met": bool(data.exclude_met), "exclude_met_before": bool(data.exclude_met_before),
             "top_n": top_n}
    if before == after:
        return False
    settings.weights = weights
    settings.exclude_competitors, settings.exclude_met, settings.top_n = (after["exclude_competitors"],
                                                                         after["exclude_met"], top_n)
    settings.exclude_met_before = after["exclude_met_before"]
    changed = sorted(k for k in after if after[k] != before[k])
    audit("matchmaking.settings", organizer_id=edition.organizer_id, user_id=actor_id, obj=settings,
          details={"changed": changed, "weights": weights})
    db.session.flush()
    return True


# --- exclusions -----------------------------------------------------------------------------------------

def block_pair(edition: Edition, exhibitor: Exhibitor, registration: Registration, *, reason: str = "blocked",
               actor_id: int | None = None) -> bool:
    """Keep a pair apart (both ways) from the next run on; the stored rows of the pair go at once."""
    if reason not in EXCLUSION_REASON:
        raise ServiceError(str(_l("Unknown reason.")))
    if not (exhibitor.edition_id == registration.edition_id == edition.id
            and exhibitor.organizer_id == registration.organizer_id == edition.organizer_id):
        raise ServiceError(str(_l("The exhibitor and the visitor must be of this edition.")))
    exists = db.session.scalar(select(MatchmakingExclusion.id).where(
        MatchmakingExclusion.exhibitor_id == exhibitor.id, MatchmakingExclusion.registration_id == registration.id))
    if exists:
        return False
    row = MatchmakingExclusion(organizer_id=edition.organizer_id, edition_id=edition.id, exhibitor_id=exhibitor.id,
                               registration_id=registration.id, reason=reason, created_by_id=actor_id)
    db.session.add(row)
    db.session.flush()
    db.session.execute(delete(Recommendation).where(Recommendation.exhibitor_id == exhibitor.id,
                                                    Recommendation.registration_id == registration.id))
    audit("matchmaking.pair_blocked", organizer_id=edition.organizer_id, user_id=actor_id, obj=row,
          details={"exhibitor_id": exhibitor.id, "registration_id": registration.id, "reason": reason})
    return True


def unblock_pair(scope: Scope, exclusion_id: int, *, actor_id: int | None = None) -> bool:
    row = db.session.scalar(scoped(MatchmakingExclusion, scope).where(MatchmakingExclusion.id == exclusion_id))
    if row is None:
        return False
    audit("matchmaking.pair_unblocked", organizer_id=row.organizer_id, user_id=actor_id, obj=row,
          details={"exhibitor_id": row.exhibitor_id, "registration_id": row.registration_id})
    db.session.delete(row)
    db.session.flush()
    return True


def exclusion_list(scope: Scope, edition: Edition, limit: int = 200) -> list[dict]:
    rows = db.session.execute(
        scoped(MatchmakingExclusion, scope, MatchmakingExclusion, Company.name, Registration.category)
        .join(Exhibitor, Exhibitor.id == MatchmakingExclusion.exhibitor_id)
        .join(Company, Company.id == Exhibitor.company_id)
        .join(Registration, Registration.id == MatchmakingExclusion.registration_id)
        .where(MatchmakingExclusion.edition_id == edition.id)
        .order_by(MatchmakingExclusion.created_at.desc()).limit(limit)).all()
    return [{"id": row.id, "exhibitor": name, "registration_id": row.registration_id,
             "category": VISITOR_CATEGORY.label(category), "reason": EXCLUSION_REASON.label(row.reason),
             "created_at": row.created_at} for row, name, category in rows]


def excluded_pairs(edition: Edition, settings: MatchmakingSettings, *,
                   known_before: bool = False) -> set[tuple[int, int]]:
    """Every (exhibitor_id, registration_id) of the edition never to recommend: the blocked and dismissed pairs,
    and by the organizer's rules competitors (a visitor working for an exhibitor of the edition is not shown to
    that exhibitor nor to exhibitors sharing a category with it), pairs that met already IN THIS EDITION (a lead
    scanned, or a meeting agreed or held: ``exclude_met``, on by default) and, separately, pairs whose person and
    company met at an EARLIER edition of the show (a lead or an agreed/held meeting there: ``exclude_met_before``,
    off by default — repeat buyers are often the best suggestions).

    ``known_before``: only what was known before the edition started (the backtest): this edition's leads and
    meetings are what it predicts, so the "met in this edition" rule adds nothing then."""
    pairs = {(e, r) for e, r in db.session.execute(
        select(MatchmakingExclusion.exhibitor_id, MatchmakingExclusion.registration_id)
        .where(MatchmakingExclusion.edition_id == edition.id))}
    if settings.exclude_competitors:
        pairs |= _competitor_pairs(edition)
    if settings.exclude_met and not known_before:
        pairs |= _met_here_pairs(edition)
    if getattr(settings, "exclude_met_before", False):
        pairs |= _met_pairs(edition)
    return pairs


def _met_here_pairs(edition: Edition) -> set[tuple[int, int]]:
    """(exhibitor_id, registration_id) of this edition with a lead, or a meeting agreed (accepted) or held."""
    pairs = {(e, r) for e, r in db.session.execute(
        select(Lead.exhibitor_id, Lead.registration_id).join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .where(Exhibitor.edition_id == edition.id, Lead.registration_id.is_not(None)))}
    return pairs | _meeting_pairs([edition.id])


def _competitor_pairs(edition: Edition) -> set[tuple[int, int]]:
    staff_of = db.session.execute(
        select(Registration.id, Exhibitor.id)
        .join(Person, Person.id == Registration.person_id)
        .join(Company, and_(Company.organizer_id == Person.organizer_id, Company.name_key == Person.company_key))
        .join(Exhibitor, and_(Exhibitor.company_id == Company.id, Exhibitor.edition_id == edition.id))
        .where(Registration.edition_id == edition.id, Person.company_key.is_not(None),
               Person.company_key != "")).all()
    if not staff_of:
        return set()
    categories: dict[int, set[int]] = {}
    for exhibitor_id, category_id in db.session.execute(
            select(exhibitor_categories.c.exhibitor_id, exhibitor_categories.c.category_id)
            .join(Exhibitor, Exhibitor.id == exhibitor_categories.c.exhibitor_id)
            .where(Exhibitor.edition_id == edition.id)):
        categories.setdefault(exhibitor_id, set()).add(category_id)
    all_exhibitors = list(db.session.scalars(select(Exhibitor.id).where(Exhibitor.edition_id == edition.id)))
    pairs = set()
    for registration_id, own in staff_of:
        own_categories = categories.get(own, set())
        for other in all_exhibitors:
            if other == own or own_categories & categories.get(other, set()):
                pairs.add((other, registration_id))
    return pairs


def _met_pairs(edition: Edition) -> set[tuple[int, int]]:
    """Pairs of this edition whose company and person met at an earlier edition of the show: a lead there, or a
    meeting accepted or attended there."""
    earlier = list(db.session.scalars(select(Edition.id).where(
        Edition.show_id == edition.show_id, Edition.organizer_id == edition.organizer_id,
        Edition.starts_on < edition.starts_on)))
    met: set[tuple[int, int]] = set()  # (company_id, person_id)
    if earlier:
        met |= {(c, p) for c, p in db.session.execute(
            select(Exhibitor.company_id, Registration.person_id)
            .join(Lead, Lead.exhibitor_id == Exhibitor.id).join(Registration, Registration.id == Lead.registration_id)
            .where(Exhibitor.edition_id.in_(earlier)))}
    meetings = _meeting_pairs(earlier) if earlier else set()
    if meetings:
        ids_e = {e for e, _r in meetings}
        ids_r = {r for _e, r in meetings}
        company = {e: c for e, c in db.session.execute(select(Exhibitor.id, Exhibitor.company_id)
                                                        .where(Exhibitor.id.in_(ids_e)))}
        person = {r: p for r, p in db.session.execute(select(Registration.id, Registration.person_id)
                                                       .where(Registration.id.in_(ids_r)))}
        met |= {(company[e], person[r]) for e, r in meetings if e in company and r in person}
    if not met:
        return set()
    companies = {c for c, _p in met}
    persons = {p for _c, p in met}
    here_e = db.session.execute(select(Exhibitor.id, Exhibitor.company_id).where(
        Exhibitor.edition_id == edition.id, Exhibitor.company_id.in_(companies))).all()
    here_r = db.session.execute(select(Registration.id, Registration.person_id).where(
        Registration.edition_id == edition.id, Registration.person_id.in_(persons))).all()
    return {(e, r) for e, c in here_e for r, p in here_r if (c, p) in met}


def _meeting_pairs(edition_ids) -> set[tuple[int, int]]:
    """(exhibitor_id, registration_id) of the meetings accepted or attended in these editions (meetings.py)."""
    try:
        from . import meetings
    except ImportError:  # the meetings part is not there yet
        return set()
    met_pairs = getattr(meetings, "met_pairs", None)
    if met_pairs is None:
        return set()
    return {(e, r) for e, r, status in met_pairs(edition_ids) if status in ("accepted", "attended")}


# --- reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rec:
    other_id: int
    other_kind: str  # "exhibitor" | "registration"
    name: str
    score: float
    rank: int
    reasons: list
    booth: str = ""


def _visitor_rows(registration_id: int, n: int):
    return db.session.execute(
        select(Recommendation, Exhibitor, Company)
        .join(Exhibitor, Exhibitor.id == Recommendation.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .where(Recommendation.registration_id == registration_id, Recommendation.direction == FOR_VISITOR,
               # an exhibitor who withdrew since the last run is no longer suggested (read time, not the next run)
               Exhibitor.status.not_in(WITHDRAWN_STATUSES),
               ~Recommendation.exhibitor_id.in_(_blocked_for_registration(registration_id)))
        .order_by(Recommendation.rank).limit(n)).all()


def _blocked_for_registration(registration_id: int):
    return select(MatchmakingExclusion.exhibitor_id).where(MatchmakingExclusion.registration_id == registration_id)


def _blocked_for_exhibitor(exhibitor_id: int):
    return select(MatchmakingExclusion.registration_id).where(MatchmakingExclusion.exhibitor_id == exhibitor_id)


def exhibitors_to_see(registration: Registration, n: int = TOP_N, *, locale: str | None = None) -> list[dict]:
    """The visitor's list: exhibitor company, booth, score, the reasons in words (the visitor's side)."""
    if registration.status in INACTIVE_STATUSES or registration.erased_at is not None:
        return []
    out = []
    for rec, exhibitor, company in _visitor_rows(registration.id, n):
        out.append({"rank": rec.rank, "score": rec.score, "exhibitor_id": exhibitor.id, "company": company.name,
                    "booth": exhibitor.booth, "country": company.country, "website": company.website,
                    "description": company.description, "external_ref": exhibitor.external_ref,
                    "reasons": explain.words(rec.reasons, "visitor", locale=locale, signals=rec.signals),
                    "signals": rec.signals})
    return out


def visitors_to_invite(exhibitor: Exhibitor, n: int = TOP_N, *, locale: str | None = None) -> list[dict]:
    """The exhibitor's list: only what an exhibitor may see of each visitor (visitors.services), never contact
    data (``email``/``phone`` are dropped even when shared: the contact comes through a scan or a meeting)."""
    rows = db.session.execute(
        select(Recommendation, Registration)
        .join(Registration, Registration.id == Recommendation.registration_id)
        .where(Recommendation.exhibitor_id == exhibitor.id, Recommendation.direction == FOR_EXHIBITOR,
               Registration.status.not_in(INACTIVE_STATUSES), Registration.erased_at.is_(None),
               ~Recommendation.registration_id.in_(_blocked_for_exhibitor(exhibitor.id)))
        .options(joinedload(Registration.person))  # visible_to_exhibitor reads the person: one query, not N
        .order_by(Recommendation.rank).limit(n)).all()
    out = []
    for rec, registration in rows:
        seen = visitor_services.visible_to_exhibitor(registration)
        visitor = {k: seen.get(k) for k in ("name", "company", "job_title", "country")} if seen["shared"] else {}
        out.append({"rank": rec.rank, "score": rec.score, "registration_id": registration.id,
                    "category": registration.category, "category_label": VISITOR_CATEGORY.label(registration.category),
                    "shared": seen["shared"], "visitor": visitor,
                    "reasons": explain.words(rec.reasons, "exhibitor", locale=locale, signals=rec.signals)})
    return out


def _visitor_name(item: dict) -> str:
    if item["shared"] and item["visitor"].get("name"):
        company = item["visitor"].get("company")
        return item["visitor"]["name"] + (f" · {company}" if company else "")
    return str(_l("A visitor (%(category)s)", category=item["category_label"]))


def top_for_registration(registration: Registration, n: int = 10, locale: str = "en") -> list[Rec]:
    """For the digests (campaigns): the visitor's top exhibitors, reasons in ``locale``."""
    return [Rec(other_id=i["exhibitor_id"], other_kind="exhibitor", name=i["company"], score=round(i["score"], 4),
                rank=i["rank"], reasons=i["reasons"], booth=i["booth"])
            for i in exhibitors_to_see(registration, n, locale=locale)]


def top_for_exhibitor(exhibitor: Exhibitor, n: int = 10, locale: str = "en") -> list[Rec]:
    """For the digests: the exhibitor's top visitors to invite, as an exhibitor may see them."""
    from flask_babel import force_locale

    items = visitors_to_invite(exhibitor, n, locale=locale)
    with force_locale(locale):
        return [Rec(other_id=i["registration_id"], other_kind="registration", name=_visitor_name(i),
                    score=round(i["score"], 4), rank=i["rank"], reasons=i["reasons"]) for i in items]


# --- the organizer's overview ---------------------------------------------------------------------------

def overview(scope: Scope, edition: Edition) -> dict:
    """Figures of the stored recommendations: visitors and exhibitors with a list, of how many."""
    counts = {d: c for d, c in db.session.execute(
        scoped(Recommendation, scope, Recommendation.direction, func.count(func.distinct(
            Recommendation.registration_id))).where(Recommendation.edition_id == edition.id,
                                                    Recommendation.direction == FOR_VISITOR)
        .group_by(Recommendation.direction))}
    with_list_e = db.session.scalar(scoped(Recommendation, scope, func.count(func.distinct(Recommendation.exhibitor_id)))
                                    .where(Recommendation.edition_id == edition.id,
                                           Recommendation.direction == FOR_EXHIBITOR)) or 0
    visitors = db.session.scalar(select(func.count()).select_from(active_registrations(edition.id).subquery())) or 0
    exhibitors = db.session.scalar(scoped(Exhibitor, scope, func.count(Exhibitor.id))
                                   .where(Exhibitor.edition_id == edition.id)) or 0
    mean = db.session.scalar(scoped(Recommendation, scope, func.avg(Recommendation.score))
                             .where(Recommendation.edition_id == edition.id, Recommendation.rank == 1)) or 0.0
    return {"visitors": visitors, "visitors_with_list": counts.get(FOR_VISITOR, 0), "exhibitors": exhibitors,
            "exhibitors_with_list": with_list_e, "mean_top_score": float(mean)}


def sample_pairs(scope: Scope, edition: Edition, n: int = 10) -> list[dict]:
    """The strongest pairs of the edition (the organizer's look at what the engine does), reasons and signals."""
    rows = db.session.execute(
        scoped(Recommendation, scope, Recommendation, Company.name, Registration)
        .join(Exhibitor, Exhibitor.id == Recommendation.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .join(Registration, Registration.id == Recommendation.registration_id)
        .where(Recommendation.edition_id == edition.id, Recommendation.direction == FOR_VISITOR,
               Recommendation.rank == 1)
        .order_by(Recommendation.score.desc()).limit(n)).all()
    return [{"registration_id": reg.id, "visitor": reg.visitor_name, "category": reg.category,
             "exhibitor": name, "score": rec.score, "signals": explain.signal_words(rec.signals),
             "reasons": explain.words(rec.reasons, "visitor", signals=rec.signals)} for rec, name, reg in rows]


# --- export (CLI, API) ------------------------------------------------------------------------------------

def _live(stmt):
    """The read-time filters of the pages, for exports: no cancelled or erased registration, no withdrawn
    exhibitor, no pair blocked or dismissed since the run (the statement joins Registration and Exhibitor)."""
    blocked = select(MatchmakingExclusion.id).where(MatchmakingExclusion.exhibitor_id == Recommendation.exhibitor_id,
                                                    MatchmakingExclusion.registration_id == Recommendation.registration_id)
    return stmt.where(Registration.status.not_in(INACTIVE_STATUSES), Registration.erased_at.is_(None),
                      Exhibitor.status.not_in(WITHDRAWN_STATUSES), ~blocked.exists())


def export_rows(edition: Edition, direction: str, *, n: int = TOP_N, locale: str = "en", owner_ref: str | None = None,
                owner_id: int | None = None, offset: int = 0, limit: int | None = None) -> list[dict]:
    """The stored recommendations of one side as plain rows, keyed by the imported rows' external references
    (and ids): for each registration (direction "v") its exhibitors, for each exhibitor ("e") its visitors.
    Visitors are named by id, external reference and category only (no personal data in an export). The pages'
    read-time filters apply (cancelled/erased registrations, withdrawn exhibitors, blocked pairs are left out).
    ``owner_ref``/``owner_id``: only that registration's (or exhibitor's) rows. ``offset``/``limit``: owners."""
    reg_ref, exh_ref = Registration.external_ref, Exhibitor.external_ref
    owner_column = Recommendation.registration_id if direction == FOR_VISITOR else Recommendation.exhibitor_id
    owners = _live(select(owner_column)
                   .join(Registration, Registration.id == Recommendation.registration_id)
                   .join(Exhibitor, Exhibitor.id == Recommendation.exhibitor_id)
                   .where(Recommendation.edition_id == edition.id, Recommendation.direction == direction)
                   .distinct().order_by(owner_column))
    if owner_id is not None:
        owners = owners.where(owner_column == owner_id)
    if owner_ref is not None:
        owners = owners.where((reg_ref if direction == FOR_VISITOR else exh_ref) == owner_ref)
    if limit is not None:
        owners = owners.offset(offset).limit(limit)
    stmt = _live(select(Recommendation, reg_ref, exh_ref, Registration.category, Company.name)
                 .join(Registration, Registration.id == Recommendation.registration_id)
                 .join(Exhibitor, Exhibitor.id == Recommendation.exhibitor_id)
                 .join(Company, Company.id == Exhibitor.company_id)
                 .where(Recommendation.edition_id == edition.id, Recommendation.direction == direction,
                        Recommendation.rank <= n, owner_column.in_(owners.scalar_subquery()))
                 .order_by(owner_column, Recommendation.rank))
    reader = "visitor" if direction == FOR_VISITOR else "exhibitor"
    out = []
    for rec, rref, eref, category, company in db.session.execute(stmt):
        out.append({"registration_id": rec.registration_id, "registration_ref": rref,
                    "visitor_category": category, "exhibitor_id": rec.exhibitor_id, "exhibitor_ref": eref,
                    "company": company, "rank": rec.rank, "score": round(rec.score, 4),
                    "signals": {k: round(v, 4) for k, v in (rec.signals or {}).items()},
                    "reasons": explain.words(rec.reasons, reader, locale=locale, signals=rec.signals)})
    return out


def iter_export_rows(edition: Edition, direction: str, *, n: int = TOP_N, locale: str = "en", page: int = 1000):
    """export_rows for every owner, a page of owners at a time (the CLI streams them: no 5M rows in memory)."""
    offset = 0
    while True:
        rows = export_rows(edition, direction, n=n, locale=locale, offset=offset, limit=page)
        if not rows:
            return
        yield from rows
        offset += page


# The runs and the backtest live in runs.py; callers use them from here.
from .runs import (  # noqa: E402,F401
    EXPLAINED_RANKS,
    active_registrations,
    backtest_chart,
    backtest_edition,
    changed_registrations,
    compute,
    editions_to_refresh,
    expire_stale_runs,
    fail_run,
    products_changed,
    refresh,
    request_run,
    stored_reasons,
    store_backtest,
    store_backtest_error,
)


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """``erase_personal_data`` (after the meetings' part): an erased visitor's recommendations both ways go
    (their stored reasons quote the visitor's own needs) and the visitor is never suggested again."""
    db.session.execute(delete(Recommendation).where(Recommendation.organizer_id == scope.organizer_id,
                                                    Recommendation.registration_id.in_(registration_ids)),
                       execution_options={"synchronize_session": False})
