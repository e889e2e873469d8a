"""Visitor-category rules: the edition's ordered rules over the qualification answers decide a visitor's
category ("purchase authority = decides AND company type = distributor → buyer"). The first active rule
whose conditions all hold wins; when none does, the category the visitor chose stays. A rule without
conditions matches everyone: put it last as the edition's default. Staff can override a registration's
category (audited); the registration remembers which rule decided, or that staff did.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..core.services import ServiceError, audit, unstorable
from ..extensions import db
from .models import VISITOR_CATEGORIES, VISITOR_CATEGORY, Registration
from .questions import CHOICE_KINDS, OPERATORS, Question, all_questions, condition_holds, plain_value

MAX_CONDITIONS = 4
# Who set a registration's category: the visitor's own choice, a rule, or staff (an override).
CATEGORY_SET_BY = {"visitor": _l("chosen by the visitor"), "rule": _l("by rule"), "staff": _l("set by staff")}


class CategoryRule(db.Model):
    __tablename__ = "category_rules"
    __table_args__ = (CheckConstraint(VISITOR_CATEGORY.check("category"), name="valid_category"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    # [{"key": "purchase_authority", "op": "equals", "value": "decides"}, …], all of which must hold
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def category_state(self):
        return VISITOR_CATEGORY.state(self.category)


def edition_rules(edition, *, active_only: bool = False) -> list[CategoryRule]:
    stmt = select(CategoryRule).where(CategoryRule.edition_id == edition.id)
    if active_only:
        stmt = stmt.where(CategoryRule.active.is_(True))
    return list(db.session.scalars(stmt.order_by(CategoryRule.position, CategoryRule.id)))


def rule_matches(rule: CategoryRule, answers: dict) -> bool:
    return all(condition_holds(c.get("op"), c.get("value"), plain_value(answers.get(c.get("key"))))
               for c in rule.conditions or [])


def decide_category(edition, answers: dict, rules: list[CategoryRule] | None = None):
    """(category, rule) of the first active rule matching the answers (stored or plain values), else
    (None, None): the category stays as chosen."""
    rules = edition_rules(edition, active_only=True) if rules is None else rules
    for rule in rules:
        if rule.active and rule_matches(rule, answers or {}):
            return rule.category, rule
    return None, None


def apply_rules(registration: Registration, edition, answers: dict) -> None:
    """Set the category of a new registration from the rules (the visitor's choice stays when none matches)."""
    category, rule = decide_category(edition, answers)
    if rule is not None:
        registration.category = category
        registration.category_rule_id = rule.id
        registration.category_set_by = "rule"
    else:
        registration.category_set_by = "visitor"


def redecide(registration: Registration, edition) -> bool:
    """After the visitor changed their answers: the rules decide again, unless staff set the category (or
    the registration came from an import or the walk-up desk). True when the category changed."""
    from .services import RULELESS_SOURCES

    if registration.category_set_by == "staff" or registration.source in RULELESS_SOURCES:
        return False
    category, rule = decide_category(edition, registration.answers or {})
    if rule is None:
        registration.category_rule_id = None
        registration.category_set_by = "visitor"
        return False
    changed = category != registration.category
    registration.category, registration.category_rule_id, registration.category_set_by = category, rule.id, "rule"
    return changed


def decided_by(registration: Registration) -> str:
    """"rule 'Purchase decision makers'", "set by staff" or "chosen by the visitor" (translated)."""
    if registration.category_set_by == "staff":
        return str(CATEGORY_SET_BY["staff"])
    if registration.category_set_by == "rule" and registration.category_rule_id:
        rule = db.session.get(CategoryRule, registration.category_rule_id)
        if rule is not None:
            return str(_l("rule “%(name)s”", name=rule.name))
    return str(CATEGORY_SET_BY.get(registration.category_set_by or "visitor", ""))


def override_category(registration: Registration, category: str, *, actor_id: int | None = None) -> bool:
    """Staff set a registration's category by hand (it no longer follows the rules); audited with the
    previous category and what had decided it. False when nothing changed."""
    if category not in VISITOR_CATEGORIES:
        raise ServiceError(_l("Choose a visitor category."), "category")
    if category == registration.category and registration.category_set_by == "staff":
        return False
    previous, previous_by = registration.category, decided_by(registration)
    registration.category = category
    registration.category_set_by = "staff"
    registration.category_rule_id = None
    audit("registration.category", organizer_id=registration.organizer_id, user_id=actor_id, obj=registration,
          details={"category": category, "previous": previous, "decided_by": previous_by})
    return True


# --- staff: rules ---------------------------------------------------------------------------------

@dataclass
class RuleInput:
    name: str = ""
    category: str = ""
    conditions: list = None  # [(key, op, value)] as typed; blank rows ignored

    def __post_init__(self):
        self.conditions = list(self.conditions or [])


class RuleErrors(ServiceError):
    def __init__(self, errors: dict):
        super().__init__(next(iter(errors.values())), next(iter(errors)))
        self.errors = errors


def rule_form_input(form_data) -> RuleInput:
    def text(name):
        value = form_data.get(name, "")
        return value if isinstance(value, str) else ""
    rows = [(text(f"key_{n}").strip(), text(f"op_{n}") or "equals", text(f"value_{n}").strip())
            for n in range(MAX_CONDITIONS)]
    return RuleInput(name=text("name"), category=text("category"), conditions=rows)


def rule_input(rule: CategoryRule) -> RuleInput:
    return RuleInput(name=rule.name, category=rule.category,
                     conditions=[(c["key"], c["op"], c["value"]) for c in rule.conditions or []])


def _validate(edition, data: RuleInput) -> tuple[dict, list]:
    errors: dict = {}
    if any(unstorable(t) for t in [data.name] + [part for row in data.conditions for part in row]):
        return {"name": str(_l("This text contains characters that cannot be stored."))}, []
    data.name = " ".join(data.name.split())
    if not data.name:
        errors["name"] = str(_l("Give the rule a name (it is shown on the registration)."))
    elif len(data.name) > 200:
        errors["name"] = str(_l("At most %(n)d characters.", n=200))
    if data.category not in VISITOR_CATEGORIES:
        errors["category"] = str(_l("Choose a visitor category."))
    questions = {q.key: q for q in all_questions(edition)}
    conditions = []
    for n, (key, op, value) in enumerate(data.conditions):
        if not key and not value:
            continue
        question = questions.get(key)
        if question is None:
            errors[f"key_{n}"] = str(_l("Choose a question."))
            continue
        if op not in OPERATORS:
            errors[f"op_{n}"] = str(_l("Choose how to compare."))
        if not value:
            errors[f"value_{n}"] = str(_l("Give the answer to compare with."))
        elif len(value) > 200:
            errors[f"value_{n}"] = str(_l("At most %(n)d characters.", n=200))
        elif question.kind in CHOICE_KINDS + ("yes_no",):
            allowed = [c["value"] for c in question.choices or []] if question.kind in CHOICE_KINDS else ["yes", "no"]
            if value not in allowed:
                errors[f"value_{n}"] = str(_l("Use one of the codes of that question: %(codes)s.",
                                              codes=", ".join(allowed)))
        conditions.append({"key": key, "op": op, "value": value})
    return errors, conditions


def save_rule(edition, data: RuleInput, *, rule: CategoryRule | None = None,
              actor_id: int | None = None) -> CategoryRule:
    errors, conditions = _validate(edition, data)
    if errors:
        raise RuleErrors(errors)
    new = rule is None
    if new:
        position = (db.session.scalar(select(func.max(CategoryRule.position))
                                      .where(CategoryRule.edition_id == edition.id)) or 0) + 1
        rule = CategoryRule(organizer_id=edition.organizer_id, edition_id=edition.id, position=position)
        db.session.add(rule)
    rule.name, rule.category, rule.conditions = data.name, data.category, conditions
    db.session.flush()
    audit("category_rule.created" if new else "category_rule.changed", organizer_id=edition.organizer_id,
          user_id=actor_id, obj=rule, details={"name": rule.name, "category": rule.category,
                                               "conditions": len(conditions)})
    return rule


def move_rule(rule: CategoryRule, direction: str, *, actor_id: int | None = None) -> None:
    rules = edition_rules(_edition_of(rule))
    for n, r in enumerate(rules):
        r.position = n + 1
    index = rules.index(rule)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(rules):
        return
    other = rules[other_index]
    rule.position, other.position = other.position, rule.position
    db.session.flush()
    audit("category_rule.moved", organizer_id=rule.organizer_id, user_id=actor_id, obj=rule,
          details={"name": rule.name, "position": rule.position})


def _edition_of(rule: CategoryRule):
    from ..core.models import Edition

    return db.session.get(Edition, rule.edition_id)


def set_rule_active(rule: CategoryRule, active: bool, *, actor_id: int | None = None) -> None:
    if rule.active == active:
        return
    rule.active = active
    audit("category_rule.activated" if active else "category_rule.deactivated", organizer_id=rule.organizer_id,
          user_id=actor_id, obj=rule, details={"name": rule.name})


def rule_in_edition(edition, rule_id) -> CategoryRule | None:
    try:
        rule_id = int(rule_id)
    except (TypeError, ValueError):
        return None
    if not 0 < rule_id < 2**31:
        return None
    return db.session.scalar(select(CategoryRule).where(CategoryRule.id == rule_id,
                                                        CategoryRule.edition_id == edition.id,
                                                        CategoryRule.organizer_id == edition.organizer_id))


def rules_using(question: Question) -> list[CategoryRule]:
    return [rule for rule in db.session.scalars(select(CategoryRule).where(CategoryRule.edition_id
                                                                           == question.edition_id))
            if any(c.get("key") == question.key for c in rule.conditions or [])]


# --- the demo show's questions and rules (expo/visitors/demo.py) -------------------------------------

DEMO_QUESTIONS = (
    dict(key="purchase_authority", kind="single", required=True,
         label_en="Your role in purchasing decisions", label_zh="您在采购决策中的角色",
         help_en="Helps exhibitors prepare for your visit.", help_zh="帮助展商为您的来访做好准备。",
         choices_text="decides | I decide on purchases | 我决定采购\n"
                      "recommends | I recommend or specify | 我负责推荐或选型\n"
                      "none | I am not involved in purchasing | 我不参与采购"),
    dict(key="company_type", kind="single", required=True, label_en="Type of company", label_zh="公司类型",
         choices_text="distributor | Distributor / wholesaler | 经销商 / 批发商\n"
                      "retailer | Retailer / e-commerce | 零售商 / 电商\n"
                      "design | Interior design / architecture | 室内设计 / 建筑\n"
                      "developer | Real-estate developer / hotel | 地产开发商 / 酒店\n"
                      "manufacturer | Manufacturer | 制造商\n"
                      "press | Press / media | 媒体"),
    dict(key="products", kind="multi", label_en="Products of interest", label_zh="感兴趣的产品",
         choices_text="office_chairs | Office chairs | 办公椅\ndesks | Desks and workstations | 办公桌及工位\n"
                      "sofas | Sofas | 沙发\noutdoor | Outdoor furniture | 户外家具\nlighting | Lighting | 灯饰"),
    dict(key="annual_budget", kind="number", label_en="Annual purchasing budget (USD)",
         label_zh="年度采购预算（美元）", help_en="An estimate is fine.", help_zh="估算即可。",
         condition_key="purchase_authority", condition_op="equals", condition_value="decides"),
    dict(key="main_market", kind="country", label_en="Your main market", label_zh="您的主要市场"),
)
DEMO_RULES = (
    ("Purchase decision makers", "buyer", [("purchase_authority", "equals", "decides"),
                                           ("company_type", "equals", "distributor")]),
    ("Developers and hotels who decide", "buyer", [("purchase_authority", "equals", "decides"),
                                                   ("company_type", "equals", "developer")]),
    ("Press", "media", [("company_type", "equals", "press")]),
)
_DEMO_PROFILES = {  # visitor category -> (purchase authority, company types) most answers give
    "buyer": ("decides", ("distributor", "developer", "retailer")),
    "trade_visitor": ("recommends", ("design", "retailer", "manufacturer")),
    "public": ("none", ("retailer", "manufacturer")),
    "media": ("none", ("press",)),
    "vip": ("decides", ("distributor", "developer")),
}


def demo_qualifier(edition, rng):
    """The demo edition's questions and rules, and a function answering them for a registration row of a
    category: {answers, category (the rules' or the given one), category_set_by, category_rule_id}."""
    from .questions import active_questions, country_choices
    from .questions_admin import QuestionInput, save_question

    for spec in DEMO_QUESTIONS:
        save_question(edition, QuestionInput(**spec))
    made = [save_rule(edition, RuleInput(name=name, category=category, conditions=conditions))
            for name, category, conditions in DEMO_RULES]
    versions = {q.key: q.version for q in active_questions(edition)}
    markets = ["CN"] * 6 + [code for code, _name in country_choices("en") if code in
                            ("US", "DE", "IT", "JP", "KR", "AE", "AU", "GB", "VN", "MY", "IN", "FR", "SA")]

    def qualify(category: str) -> dict:
        authority, types = _DEMO_PROFILES.get(category, ("none", ("retailer",)))
        if rng.random() < 0.15:
            authority = rng.choice(("decides", "recommends", "none"))
        values = {"purchase_authority": authority, "company_type": rng.choice(types),
                  "products": sorted(rng.sample(["office_chairs", "desks", "sofas", "outdoor", "lighting"],
                                                k=rng.randint(1, 3))),
                  "main_market": rng.choice(markets)}
        if authority == "decides":
            values["annual_budget"] = rng.choice((50_000, 120_000, 250_000, 500_000, 1_200_000))
        answers = {key: {"v": versions[key], "value": value} for key, value in values.items()}
        decided, rule = decide_category(edition, answers, made)
        return {"answers": answers, "category": decided or category,
                "category_set_by": "rule" if rule else "visitor", "category_rule_id": rule.id if rule else None}

    return qualify
