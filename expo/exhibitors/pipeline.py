"""The booth-sales pipeline (issue 8): stages with their closing chance, the board and the list, the deal's
fields (booth type, m², price, expected close), the edition's booth types and stage probabilities.

Every stage move goes through ``services.set_status`` (legal moves only, audited, on the company's timeline).
A deal's value is its agreed price, else m² × its booth type's price per m² (``Exhibitor.deal_value``); its
weighted value is the value × the stage's closing chance (``probabilities``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, extract, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from ..core.models import Edition, User
from ..core.paging import Page, paginate
from ..core.scoping import Scope, scoped
from ..core.services import MAX_DB_INT, ServiceError, audit
from ..extensions import db
from .floor_models import Stand
from .models import (DEFAULT_STAGE_PROBABILITY, EXHIBITOR_STATUS, BoothType, Company, Exhibitor, StageProbability)

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_AREA = Decimal("99999.99")  # Numeric(8, 2)
# Stages still being sold (the open pipeline) and the board's column order.
OPEN_STAGES = ("prospect", "contacted", "negotiating")
BOARD_STAGES = EXHIBITOR_STATUS.codes
SALES_ROLES = ("owner", "manager", "sales")
CARDS_PER_COLUMN = 60


def probabilities(edition_id: int) -> dict[str, int]:
    """The chance (percent) that a deal at each stage closes: the edition's own figures over the defaults."""
    own = dict(db.session.execute(select(StageProbability.status, StageProbability.percent)
                                  .where(StageProbability.edition_id == edition_id)).all())
    return {**DEFAULT_STAGE_PROBABILITY, **own}


# --- parsing what people type (hostile input gets a clear ServiceError, never a 500) -------------------------

def _clean(text) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).replace("\x00", "").strip()


def parse_money(text, field_name: str, *, required: bool = False, positive: bool = False) -> Decimal | None:
    """"12,345.50", "¥ 12345", "１２３４５" → Decimal("12345.50"); empty → None (or an error if required)."""
    plain = re.sub(r"[\s,¥￥$]|CNY|RMB", "", _clean(text), flags=re.I)
    if not plain:
        if required:
            raise ServiceError(_l("Enter an amount."), field_name)
        return None
    try:
        value = Decimal(plain)
    except InvalidOperation:
        raise ServiceError(_l("Enter an amount as a number, e.g. 12500.00."), field_name) from None
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        raise ServiceError(_l("Enter an amount between 0 and 9,999,999,999."), field_name)
    if positive and value <= 0:
        raise ServiceError(_l("Enter an amount above zero."), field_name)
    return value.quantize(CENT, ROUND_HALF_UP)


def parse_area(text, field_name: str = "area_m2") -> Decimal | None:
    plain = re.sub(r"\s|m²|m2|㎡", "", _clean(text), flags=re.I).replace(",", "")
    if not plain:
        return None
    try:
        value = Decimal(plain)
    except InvalidOperation:
        raise ServiceError(_l("Enter the area in m² as a number, e.g. 36."), field_name) from None
    if not value.is_finite() or value <= 0 or value > MAX_AREA:
        raise ServiceError(_l("Enter an area between 1 and 99,999 m²."), field_name)
    return value.quantize(CENT, ROUND_HALF_UP)


def parse_date(text, field_name: str, *, required: bool = False) -> date | None:
    plain = _clean(text)
    if not plain:
        if required:
            raise ServiceError(_l("Enter a date."), field_name)
        return None
    try:
        value = date.fromisoformat(plain[:10]) if len(plain) <= 10 else None
    except ValueError:
        value = None
    if value is None or not (2000 <= value.year <= 2100):
        raise ServiceError(_l("Enter a date as YYYY-MM-DD."), field_name)
    return value


def parse_id(text) -> int | None:
    plain = _clean(text)
    if not plain.isascii() or not plain.isdigit():
        return None
    value = int(plain)
    return value if 1 <= value <= MAX_DB_INT else None


def parse_month(text) -> tuple[int, int] | None:
    """"2026-05" → (2026, 5); anything else → None."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", _clean(text))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return (year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


# --- filters, the board and the list --------------------------------------------------------------------

@dataclass
class PipelineFilters:
    stages: list[str] = field(default_factory=list)
    rep_id: int | None = None  # 0: nobody assigned
    booth_type_id: int | None = None
    close_month: tuple[int, int] | None = None
    search: str = ""

    @classmethod
    def from_args(cls, args) -> PipelineFilters:
        """From a query string (a MultiDict or dict of lists); what does not parse is ignored."""
        getlist = args.getlist if hasattr(args, "getlist") else (lambda k: args.get(k, []))
        get = (lambda k: (getlist(k) or [""])[0])
        rep = _clean(get("rep"))
        return cls(stages=[s for s in getlist("stage") if s in EXHIBITOR_STATUS],
                   rep_id=0 if rep == "none" else parse_id(rep),
                   booth_type_id=parse_id(get("type")),
                   close_month=parse_month(get("close")),
                   search=_clean(get("q"))[:100])

    @property
    def active(self) -> bool:
        return bool(self.stages or self.rep_id is not None or self.booth_type_id or self.close_month or self.search)

    def apply(self, stmt, *, stages: bool = True):
        if stages and self.stages:
            stmt = stmt.where(Exhibitor.status.in_(self.stages))
        if self.rep_id == 0:
            stmt = stmt.where(Exhibitor.sales_rep_id.is_(None))
        elif self.rep_id is not None:
            stmt = stmt.where(Exhibitor.sales_rep_id == self.rep_id)
        if self.booth_type_id:
            stmt = stmt.where(Exhibitor.booth_type_id == self.booth_type_id)
        if self.close_month:
            year, month = self.close_month
            stmt = stmt.where(extract("year", Exhibitor.expected_close_on) == year,
                              extract("month", Exhibitor.expected_close_on) == month)
        if self.search:
            like = f"%{self.search.lower()}%"
            stmt = stmt.where(or_(func.lower(Company.name).like(like),
                                  func.lower(Exhibitor.hall + "-" + Exhibitor.stand).like(like)))
        return stmt


def _value_expression():
    """SQL for Exhibitor.deal_value (the booth type outer-joined)."""
    return func.coalesce(Exhibitor.price, Exhibitor.area_m2 * BoothType.price_per_m2)


@dataclass
class StageTotal:
    code: str
    count: int = 0
    value: Decimal = Decimal("0.00")
    area: Decimal = Decimal("0.00")
    probability: int = 0

    @property
    def state(self):
        return EXHIBITOR_STATUS[self.code]

    @property
    def weighted(self) -> Decimal:
        return (self.value * self.probability / 100).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Totals:
    stages: dict[str, StageTotal]

    @property
    def count(self) -> int:
        return sum(t.count for t in self.stages.values())

    @property
    def value(self) -> Decimal:
        return sum((t.value for t in self.stages.values()), Decimal("0.00"))

    @property
    def weighted(self) -> Decimal:
        return sum((t.weighted for t in self.stages.values()), Decimal("0.00"))

    @property
    def area(self) -> Decimal:
        return sum((t.area for t in self.stages.values()), Decimal("0.00"))

    @property
    def open_value(self) -> Decimal:
        return sum((self.stages[s].value for s in OPEN_STAGES), Decimal("0.00"))

    @property
    def won_value(self) -> Decimal:
        return sum((self.stages[s].value for s in ("contracted", "paid", "exhibited")), Decimal("0.00"))


def _base(scope: Scope, edition: Edition, *columns):
    stmt = scoped(Exhibitor, scope, *columns) if columns else scoped(Exhibitor, scope)
    return (stmt.join(Company, Company.id == Exhibitor.company_id)
            .outerjoin(BoothType, BoothType.id == Exhibitor.booth_type_id)
            .where(Exhibitor.edition_id == edition.id))


def totals(scope: Scope, edition: Edition, filters: PipelineFilters | None = None) -> Totals:
    """Count, value, m² per stage (of the exhibitors the filters keep) and the weighted value."""
    filters = filters or PipelineFilters()
    chances = probabilities(edition.id)
    stmt = filters.apply(_base(scope, edition, Exhibitor.status, func.count(Exhibitor.id),
                               func.coalesce(func.sum(_value_expression()), 0),
                               func.coalesce(func.sum(Exhibitor.area_m2), 0)))
    found = {code: StageTotal(code, probability=chances.get(code, 0)) for code in BOARD_STAGES}
    for status, count, value, area in db.session.execute(stmt.group_by(Exhibitor.status)).all():
        if status in found:
            found[status].count = count
            found[status].value = Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
            found[status].area = Decimal(str(area)).quantize(CENT, ROUND_HALF_UP)
    return Totals(found)


@dataclass
class Card:
    exhibitor: Exhibitor
    value: Decimal | None
    probability: int
    rep: str

    @property
    def weighted(self) -> Decimal | None:
        return None if self.value is None else (self.value * self.probability / 100).quantize(CENT, ROUND_HALF_UP)

    @property
    def moves(self):
        return EXHIBITOR_STATUS.next_states(self.exhibitor.status)


@dataclass
class Column:
    total: StageTotal
    cards: list[Card]

    @property
    def state(self):
        return self.total.state

    @property
    def hidden(self) -> int:
        return self.total.count - len(self.cards)


@dataclass
class Board:
    columns: list[Column]
    totals: Totals
    reps: dict[int, str]
    booth_types: list[BoothType]


def reps(scope: Scope) -> dict[int, str]:
    """The organizer's staff who may sell (owner, manager, sales), id → name."""
    return dict(db.session.execute(scoped(User, scope, User.id, User.name)
                                   .where(User.exhibitor_id.is_(None), User.role.in_(SALES_ROLES))
                                   .order_by(User.name)).all())


def booth_types(scope: Scope, edition: Edition) -> list[BoothType]:
    return list(db.session.scalars(scoped(BoothType, scope).where(BoothType.edition_id == edition.id)
                                   .order_by(BoothType.price_per_m2.desc(), BoothType.code)))


def _cards(rows, chances: dict[str, int], names: dict[int, str]) -> list[Card]:
    return [Card(e, e.deal_value, chances.get(e.status, 0), names.get(e.sales_rep_id, "")) for e in rows]


def board(scope: Scope, edition: Edition, filters: PipelineFilters | None = None) -> Board:
    """The kanban board: a column per stage with its cards (the first CARDS_PER_COLUMN by expected close),
    count, value and weighted value. The stage filter does not hide columns."""
    filters = filters or PipelineFilters()
    chances = probabilities(edition.id)
    names = reps(scope)
    stage_totals = totals(scope, edition, PipelineFilters(**{**filters.__dict__, "stages": []}))
    ranked = filters.apply(_base(scope, edition, Exhibitor.id, func.row_number().over(
        partition_by=Exhibitor.status,
        order_by=(case((Exhibitor.expected_close_on.is_(None), 1), else_=0), Exhibitor.expected_close_on,
                  Company.name, Exhibitor.id)).label("rank")), stages=False).subquery()
    rows = db.session.scalars(
        _base(scope, edition).join(ranked, ranked.c.id == Exhibitor.id).where(ranked.c.rank <= CARDS_PER_COLUMN)
        .options(contains_eager(Exhibitor.company), contains_eager(Exhibitor.booth_type))
        .order_by(ranked.c.rank)).unique().all()
    by_stage: dict[str, list[Exhibitor]] = {code: [] for code in BOARD_STAGES}
    for exhibitor in rows:
        by_stage.setdefault(exhibitor.status, []).append(exhibitor)
    columns = [Column(stage_totals.stages[code], _cards(by_stage[code], chances, names)) for code in BOARD_STAGES
               if not filters.stages or code in filters.stages]
    return Board(columns, stage_totals, names, booth_types(scope, edition))


LIST_SORTS = {"company": (Company.name,), "stage": (Exhibitor.status,), "close": (Exhibitor.expected_close_on,),
              "value": (_value_expression(),), "area": (Exhibitor.area_m2,)}


@dataclass
class DealList:
    page: Page
    cards: list[Card]
    totals: Totals  # of the filtered deals (every page)
    reps: dict[int, str]
    booth_types: list[BoothType]


def deal_list(scope: Scope, edition: Edition, filters: PipelineFilters | None = None, *, sort: str = "close",
              page: int = 1, per_page: int = 25) -> DealList:
    filters = filters or PipelineFilters()
    chances = probabilities(edition.id)
    names = reps(scope)
    columns = LIST_SORTS.get(sort.lstrip("-"), LIST_SORTS["close"])
    descending = sort.startswith("-")
    order = [c.desc() if descending else c.asc() for c in columns]
    if sort.lstrip("-") in ("close", "value", "area"):  # empty values last, whichever the direction
        order = [case((columns[0].is_(None), 1), else_=0), *order]
    stmt = filters.apply(_base(scope, edition)).options(contains_eager(Exhibitor.company),
                                                        contains_eager(Exhibitor.booth_type))
    found = paginate(stmt.order_by(*order, Company.name, Exhibitor.id), page=page, per_page=per_page)
    return DealList(found, _cards(found.items, chances, names), totals(scope, edition, filters), names,
                    booth_types(scope, edition))


# --- a deal's own fields --------------------------------------------------------------------------------

DEAL_FIELDS = ("booth_type_id", "area_m2", "price", "expected_close_on")


def update_deal(scope: Scope, exhibitor: Exhibitor, *, booth_type_id: int | None, area_m2: Decimal | None,
                price: Decimal | None, expected_close_on: date | None, actor_id: int | None) -> list[str]:
    """Set the deal's booth type, m², agreed price (None: m² × the type's price) and expected close date.
    Returns the fields that changed (audited as exhibitor.deal)."""
    if booth_type_id is not None:
        kind = db.session.scalar(scoped(BoothType, scope).where(BoothType.id == booth_type_id,
                                                                BoothType.edition_id == exhibitor.edition_id))
        if kind is None:
            raise ServiceError(_l("Choose one of this edition's booth types."), "booth_type_id")
    values = {"booth_type_id": booth_type_id, "area_m2": area_m2, "price": price,
              "expected_close_on": expected_close_on}
    changed = {}
    for key, value in values.items():
        old = getattr(exhibitor, key)
        if old != value:
            changed[key] = [None if old is None else str(old), None if value is None else str(value)]
            setattr(exhibitor, key, value)
    if changed:
        db.session.flush()
        db.session.expire(exhibitor, ["booth_type"])
        audit("exhibitor.deal", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=exhibitor,
              details={"fields": sorted(changed), **{k: v[1] for k, v in changed.items()}})
    return sorted(changed)


def get_deal(scope: Scope, edition: Edition, exhibitor_id: int) -> Exhibitor | None:
    return db.session.scalar(scoped(Exhibitor, scope).where(Exhibitor.id == exhibitor_id,
                                                            Exhibitor.edition_id == edition.id)
                             .options(joinedload(Exhibitor.company), joinedload(Exhibitor.booth_type)))


# --- settings: booth types and stage probabilities ------------------------------------------------------

CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,20}")


def save_booth_type(scope: Scope, edition: Edition, *, code: str, name_en: str, name_zh: str, price_per_m2: Decimal,
                    booth_type: BoothType | None = None, actor_id: int | None = None) -> BoothType:
    """Add a booth type to the edition (or change one): a short code unique in the edition, names, price per m²."""
    code, name_en, name_zh = _clean(code), _clean(name_en)[:100], _clean(name_zh)[:100]
    if not CODE_PATTERN.fullmatch(code):
        raise ServiceError(_l("A code is 1 to 20 letters, digits, - or _ (e.g. SHELL)."), "code")
    if price_per_m2 is None:
        raise ServiceError(_l("Enter the price per m²."), "price_per_m2")
    if price_per_m2 > Decimal("99999999.99"):
        raise ServiceError(_l("Enter an amount between 0 and 9,999,999,999."), "price_per_m2")
    clash = db.session.scalar(scoped(BoothType, scope, BoothType.id).where(
        BoothType.edition_id == edition.id, func.lower(BoothType.code) == code.lower(),
        BoothType.id != (booth_type.id if booth_type else 0)))
    if clash:
        raise ServiceError(_l("This edition has a booth type with this code already."), "code")
    created = booth_type is None
    if created:
        booth_type = BoothType(organizer_id=scope.organizer_id, edition_id=edition.id, code=code,
                               name_en=name_en, name_zh=name_zh, price_per_m2=price_per_m2)
        db.session.add(booth_type)
    else:
        booth_type.code, booth_type.name_en, booth_type.name_zh = code, name_en, name_zh
        booth_type.price_per_m2 = price_per_m2
    db.session.flush()
    audit("booth_type.created" if created else "booth_type.updated", organizer_id=scope.organizer_id,
          user_id=actor_id, obj=booth_type, details={"code": code, "price_per_m2": str(price_per_m2)})
    return booth_type


def delete_booth_type(scope: Scope, booth_type: BoothType, *, actor_id: int | None = None) -> None:
    used = db.session.scalar(select(func.count(Exhibitor.id)).where(Exhibitor.booth_type_id == booth_type.id))
    if used:
        raise ServiceError(_l("%(count)s deals use this booth type: change them first.", count=used))
    stands = db.session.scalar(select(func.count(Stand.id)).where(Stand.booth_type_id == booth_type.id))
    if stands:
        raise ServiceError(_l("%(count)s stands of the floor plan use this booth type: change them first.",
                              count=stands))
    audit("booth_type.deleted", organizer_id=scope.organizer_id, user_id=actor_id, obj=booth_type,
          details={"code": booth_type.code})
    db.session.delete(booth_type)
    db.session.flush()


def set_probabilities(scope: Scope, edition: Edition, percents: dict[str, int], *,
                      actor_id: int | None = None) -> list[str]:
    """The edition's own closing chance per stage (0–100); returns the stages that changed (audited)."""
    for code, percent in percents.items():
        if code not in EXHIBITOR_STATUS:
            raise ServiceError(_l("Unknown status."), "status")
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ServiceError(_l("A probability is a whole number from 0 to 100."), code)
    current = probabilities(edition.id)
    own = {p.status: p for p in db.session.scalars(scoped(StageProbability, scope)
                                                   .where(StageProbability.edition_id == edition.id))}
    changed = []
    for code, percent in percents.items():
        if current.get(code) == percent:
            continue
        changed.append(code)
        if code in own:
            own[code].percent = percent
        else:
            db.session.add(StageProbability(organizer_id=scope.organizer_id, edition_id=edition.id, status=code,
                                            percent=percent))
    if changed:
        db.session.flush()
        audit("stage_probability.updated", organizer_id=scope.organizer_id, user_id=actor_id, obj=edition,
              details={"stages": changed, **{c: percents[c] for c in changed}})
    return changed
