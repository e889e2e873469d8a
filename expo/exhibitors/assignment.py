"""Which sales rep looks after an exhibitor (R15): the edition's assignment rules, assignment by hand, each
rep's accounts. Every change of rep is audited ("exhibitor.sales_rep") and lands on the company's timeline.

``assign_new(exhibitor)`` is what the path that adds exhibitors calls: an exhibitor without a rep gets the rep of
the first rule that matches (region, then whatever order the organizer set), or stays unassigned (by hand).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core import activity
from ..core.db import take_write_lock
from ..core.models import ORGANIZER_ROLES, Category, Edition, User
from ..core.scoping import Scope, scoped
from ..core.services import MAX_DB_INT, ServiceError, audit
from ..extensions import db
from .models import WITHDRAWN_STATUSES, Company, Exhibitor
from .rep_models import RULE_KIND, AssignmentRule, AssignmentRuleRep

ASSIGN_ACCOUNTS = "assign_sales_accounts"  # rules, reassigning (declared in expo.exhibitors PARTS["reps"])
VIEW_REP_PERFORMANCE = "view_rep_performance"
# The roles that sell booths (the permission MANAGE_EXHIBITORS): only they can be given accounts.
REP_ROLES = ("owner", "manager", "sales")
MAX_COUNTRIES = 60


# --- the reps --------------------------------------------------------------------------------------

def reps(scope: Scope) -> list[User]:
    """The organizer's active staff who can hold accounts, sales reps first, by name."""
    rows = db.session.scalars(scoped(User, scope).where(User.role.in_(REP_ROLES), User.active.is_(True),
                                                        User.exhibitor_id.is_(None)).order_by(User.name, User.id))
    return sorted(rows, key=lambda u: (u.role != "sales", u.name.lower()))


def rep_in_scope(scope: Scope, user_id: int | None) -> User | None:
    """The active rep with this id in the organizer, or None."""
    if not _storable_id(user_id):
        return None
    return db.session.scalar(scoped(User, scope).where(User.id == user_id, User.role.in_(REP_ROLES),
                                                       User.active.is_(True), User.exhibitor_id.is_(None)))


def _storable_id(value) -> bool:
    """An id the database's INTEGER columns can hold (a bigger one names no row: never sent to the database)."""
    return isinstance(value, int) and 0 < value <= MAX_DB_INT


# --- assigning -------------------------------------------------------------------------------------

def assign(exhibitor: Exhibitor, rep: User | None, *, actor_id: int | None = None, rule: AssignmentRule | None = None,
           reason: str = "hand") -> bool:
    """Give the exhibitor to ``rep`` (None: nobody). Audited with from/to and how ("hand", "rule", "new");
    on the company's timeline. Returns False when nothing changed."""
    if rep is not None and (rep.organizer_id != exhibitor.organizer_id or rep.role not in REP_ROLES
                            or not rep.active or rep.exhibitor_id is not None):
        raise ServiceError(_l("This person cannot look after exhibitors."), "rep")
    source = exhibitor.sales_rep_id
    target = rep.id if rep is not None else None
    if source == target:
        return False
    exhibitor.sales_rep_id = target
    details = {"from": source, "to": target, "how": reason}
    if rule is not None:
        details["rule_id"] = rule.id
    audit("exhibitor.sales_rep", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=exhibitor,
          details=details)
    edition = exhibitor.edition or db.session.get(Edition, exhibitor.edition_id)
    previous = db.session.get(User, source) if source is not None else None
    activity.record("exhibitor.sales_rep" if rep is not None else "exhibitor.sales_rep_removed",
                    organizer_id=exhibitor.organizer_id, subject_type="company", subject_id=exhibitor.company_id,
                    edition_id=exhibitor.edition_id, user_id=actor_id, obj=exhibitor,
                    details={"edition": edition.name, "rep": rep.name if rep is not None else "",
                             "previous": previous.name if previous is not None else "", "how": reason})
    return True


def assign_new(exhibitor: Exhibitor, *, actor_id: int | None = None) -> User | None:
    """Apply the edition's assignment rules to an exhibitor that has no rep yet (a new prospect): the first
    matching rule's rep gets it (audited, on the timeline). Returns the rep, or None when it has one already,
    is lost or cancelled, or no rule matches (then it is assigned by hand). Flushes; never commits."""
    if exhibitor.sales_rep_id is not None or exhibitor.status in WITHDRAWN_STATUSES:
        return None
    rule, rep = match(exhibitor)
    if rep is None:
        return None
    assign(exhibitor, rep, actor_id=actor_id, rule=rule, reason="rule")
    db.session.flush()
    return rep


def match(exhibitor: Exhibitor) -> tuple[AssignmentRule | None, User | None]:
    """The first active rule of the exhibitor's edition that gives it a rep, and that rep (a round-robin rule
    takes its turn: the next rule asking sees the next rep)."""
    rules = list(db.session.scalars(select(AssignmentRule).where(AssignmentRule.edition_id == exhibitor.edition_id,
                                                                 AssignmentRule.organizer_id == exhibitor.organizer_id,
                                                                 AssignmentRule.active.is_(True))
                                    .order_by(AssignmentRule.position, AssignmentRule.id)))
    if not rules:
        return None, None
    company = exhibitor.company or db.session.get(Company, exhibitor.company_id)
    country = (company.country or "").upper()
    offered = _with_ancestors([c.id for c in exhibitor.categories]) if any(r.kind == "category" for r in rules) \
        else set()
    for rule in rules:
        if rule.kind == "region":
            if country and country in rule.country_codes and _usable(rule.rep):
                return rule, rule.rep
        elif rule.kind == "category":
            if rule.category_id in offered and _usable(rule.rep):
                return rule, rule.rep
        elif rule.kind == "round_robin":
            rep = _take_turn(rule)
            if rep is not None:
                return rule, rep
    return None, None


def _usable(user: User | None) -> bool:
    return user is not None and user.active and user.role in REP_ROLES


def _with_ancestors(category_ids: list[int]) -> set[int]:
    """The categories and every category above them (a rule for "Furniture" takes "Office furniture")."""
    seen: set[int] = set()
    todo = [c for c in category_ids if c is not None]
    while todo:
        seen.update(todo)
        parents = db.session.scalars(select(Category.parent_id).where(Category.id.in_(todo),
                                                                      Category.parent_id.is_not(None))).all()
        todo = [p for p in parents if p not in seen]
    return seen


def _take_turn(rule: AssignmentRule) -> User | None:
    """The round-robin rule's next usable rep; the turn moves on. The rule row is locked (PostgreSQL) so two
    exhibitors arriving together never get the same turn."""
    take_write_lock(db.session)  # SQLite: wait for the one writer now, not fail at the write
    locked = db.session.scalar(select(AssignmentRule).where(AssignmentRule.id == rule.id)
                               .with_for_update().execution_options(populate_existing=True))
    members = [m for m in locked.members if _usable(m.user)]
    if not members:
        return None
    index = locked.next_index % len(members)
    locked.next_index = (index + 1) % len(members)
    return members[index].user


# --- the rules -------------------------------------------------------------------------------------

@dataclass
class RuleData:
    kind: str
    rep_id: int | None = None
    countries: str = ""
    category_id: int | None = None
    rep_ids: tuple[int, ...] = ()


def parse_countries(text: str) -> list[str]:
    """"cn, HK；mo" → ["CN", "HK", "MO"]: two-letter codes, any separator; anything else refused."""
    parts = [p for p in "".join(c if c.isalnum() else " " for c in (text or "")).upper().split() if p]
    bad = [p for p in parts if len(p) != 2 or not (p.isascii() and p.isalpha())]
    if bad:
        raise ServiceError(_l("Country codes have two letters (CN, DE, US): %(bad)s is not one.",
                              bad=", ".join(bad[:3])[:40]), "countries")
    unique = list(dict.fromkeys(parts))
    if not unique:
        raise ServiceError(_l("Name at least one country code."), "countries")
    if len(unique) > MAX_COUNTRIES:
        raise ServiceError(_l("At most %(n)s countries per rule.", n=MAX_COUNTRIES), "countries")
    return unique


def add_rule(scope: Scope, edition: Edition, data: RuleData, *, actor_id: int | None = None) -> AssignmentRule:
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    if data.kind not in RULE_KIND:
        raise ServiceError(_l("Choose how the rule assigns."), "kind")
    rule = AssignmentRule(organizer_id=scope.organizer_id, edition_id=edition.id, kind=data.kind,
                          created_by_id=actor_id, position=_next_position(edition))
    if data.kind in ("region", "category"):
        rep = rep_in_scope(scope, data.rep_id)
        if rep is None:
            raise ServiceError(_l("Choose the sales rep who gets these exhibitors."), "rep_id")
        rule.rep = rep
    if data.kind == "region":
        rule.countries = ",".join(parse_countries(data.countries))
    elif data.kind == "category":
        category = db.session.scalar(scoped(Category, scope).where(Category.id == data.category_id,
                                                                   Category.show_id == edition.show_id)) \
            if _storable_id(data.category_id) else None
        if category is None:
            raise ServiceError(_l("Choose a category of this show."), "category_id")
        rule.category = category
    elif data.kind == "round_robin":
        chosen = [rep_in_scope(scope, i) for i in dict.fromkeys(data.rep_ids)]
        if any(r is None for r in chosen):
            raise ServiceError(_l("Choose sales reps of your team."), "rep_ids")
        if len(chosen) < 2:
            raise ServiceError(_l("Round-robin needs at least two sales reps."), "rep_ids")
        rule.members = [AssignmentRuleRep(organizer_id=scope.organizer_id, user=r, position=n)
                        for n, r in enumerate(chosen)]
    db.session.add(rule)
    db.session.flush()
    audit("assignment_rule.added", organizer_id=scope.organizer_id, user_id=actor_id, obj=rule,
          details={"kind": data.kind, "rep_id": rule.rep_id, "countries": rule.countries,
                   "category_id": rule.category_id, "rep_ids": [m.user_id for m in rule.members]})
    return rule


def _next_position(edition: Edition) -> int:
    last = db.session.scalar(select(func.max(AssignmentRule.position)).where(AssignmentRule.edition_id == edition.id))
    return (last or 0) + 1


def rules(scope: Scope, edition: Edition) -> list[AssignmentRule]:
    return list(db.session.scalars(scoped(AssignmentRule, scope).where(AssignmentRule.edition_id == edition.id)
                                   .order_by(AssignmentRule.position, AssignmentRule.id)))


def delete_rule(rule: AssignmentRule, *, actor_id: int | None = None) -> None:
    audit("assignment_rule.removed", organizer_id=rule.organizer_id, user_id=actor_id, obj=rule,
          details={"kind": rule.kind})
    db.session.delete(rule)
    db.session.flush()


def move_rule(scope: Scope, rule: AssignmentRule, direction: str, *, actor_id: int | None = None) -> bool:
    """Swap the rule with its neighbour above ("up") or below ("down"): rules are tried in order."""
    if direction not in ("up", "down"):
        return False
    ordered = rules(scope, db.session.get(Edition, rule.edition_id))
    index = next(i for i, r in enumerate(ordered) if r.id == rule.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for n, row in enumerate(ordered, 1):
        row.position = n
    audit("assignment_rule.moved", organizer_id=rule.organizer_id, user_id=actor_id, obj=rule,
          details={"direction": direction})
    db.session.flush()
    return True


def apply_rules(scope: Scope, edition: Edition, *, actor_id: int | None = None) -> int:
    """The rules applied to every exhibitor of the edition without a rep (not lost or cancelled). Returns how
    many got one."""
    waiting = list(db.session.scalars(scoped(Exhibitor, scope).where(Exhibitor.edition_id == edition.id,
                                                                     Exhibitor.sales_rep_id.is_(None),
                                                                     Exhibitor.status.not_in(WITHDRAWN_STATUSES))
                                      .order_by(Exhibitor.created_at, Exhibitor.id)))
    return sum(1 for exhibitor in waiting if assign_new(exhibitor, actor_id=actor_id) is not None)


# --- accounts --------------------------------------------------------------------------------------

@dataclass
class Account:
    exhibitor: Exhibitor
    open_follow_ups: int
    overdue: int
    next_due: object  # datetime | None

    @property
    def value(self) -> Decimal | None:
        return self.exhibitor.deal_value


def accounts(scope: Scope, edition: Edition, rep_id: int | None, *, now=None) -> list[Account]:
    """The exhibitors of the edition a rep looks after (``rep_id`` None: nobody's yet), by company name, each with
    its open follow-ups."""
    from .followups import open_counts  # same module

    stmt = scoped(Exhibitor, scope).join(Company).where(Exhibitor.edition_id == edition.id)
    stmt = stmt.where(Exhibitor.sales_rep_id == rep_id) if rep_id is not None else \
        stmt.where(Exhibitor.sales_rep_id.is_(None))
    rows = list(db.session.scalars(stmt.order_by(func.lower(Company.name), Exhibitor.id)))
    counts = open_counts(scope, [e.id for e in rows], now=now)
    return [Account(e, *counts.get(e.id, (0, 0, None))) for e in rows]


def rep_names(scope: Scope) -> dict[int, str]:
    return {u.id: u.name for u in db.session.scalars(scoped(User, scope).where(User.exhibitor_id.is_(None),
                                                                               User.role.in_(ORGANIZER_ROLES)))}
