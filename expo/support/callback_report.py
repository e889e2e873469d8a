"""A call list's report: how many were reached, the script's answers summarised per question, and who was not
reached (with the CSV to call them some other way). Plain functions over the list's rows."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.services import audit
from ..core.tabular import csv_text
from ..extensions import db
from .callback_models import CALL_OUTCOME, NOT_REACHED_STATUSES, OPEN_STATUSES, TARGET_STATUS, Call, CallList
from .callbacks import progress, target_name, target_phone, targets

MAX_TEXTS = 30  # free-text answers shown per question (newest first)


@dataclass
class QuestionSummary:
    question: object
    answered: int = 0
    counts: list = field(default_factory=list)  # [(label, n)] in the question's own order
    mean: float | None = None  # ratings
    texts: list = field(default_factory=list)  # [(customer, text)]
    chart: dict | None = None


@dataclass
class Report:
    call_list: CallList
    figures: dict
    outcomes: list  # [(State, calls)]
    questions: list[QuestionSummary]
    chart: dict


def report(call_list: CallList, locale: str = "en") -> Report:
    figures = progress([call_list.id])[call_list.id]
    calls = list(db.session.scalars(select(Call).options(joinedload(Call.target))
                                    .where(Call.call_list_id == call_list.id).order_by(Call.called_at.desc(), Call.id.desc())))
    figures["calls"] = len(calls)
    by_outcome = Counter(c.outcome for c in calls)
    outcomes = [(CALL_OUTCOME[code], by_outcome.get(code, 0)) for code in CALL_OUTCOME.codes]
    answered = [c for c in calls if c.outcome == "reached"]
    names = {}
    if answered:
        for t in targets(call_list):
            names[t.id] = target_name(t)
    summaries = []
    for q in call_list.questions:
        values = [(c, c.answers.get(str(q.id))) for c in answered if c.answers.get(str(q.id)) not in (None, "")]
        s = QuestionSummary(q, answered=len(values))
        if q.kind == "yes_no":
            count = Counter(v for _c, v in values)
            s.counts = [(str(_l("Yes")), count.get("yes", 0)), (str(_l("No")), count.get("no", 0))]
        elif q.kind == "rating":
            count = Counter(int(v) for _c, v in values if str(v).isdigit())
            s.counts = [(str(n), count.get(n, 0)) for n in range(1, 6)]
            total = sum(count.values())
            s.mean = sum(n * k for n, k in count.items()) / total if total else None
        elif q.kind == "choice":
            count = Counter(v for _c, v in values)
            s.counts = [(q.choice_label(ch["value"], locale), count.get(ch["value"], 0)) for ch in q.choices]
        else:
            s.texts = [(names.get(c.target_id, ""), str(v)) for c, v in values[:MAX_TEXTS]]
        if s.counts:
            s.chart = {"type": "bar" if q.kind == "rating" else "hbar", "categories": [label for label, _n in s.counts],
                       "series": [{"name": str(_l("Answers")), "data": [n for _label, n in s.counts]}],
                       "option": {("yAxis" if q.kind == "rating" else "xAxis"): {"minInterval": 1}}}
        summaries.append(s)
    chart = {"type": "donut", "series": [{"name": str(_l("Customers")), "data": [
        {"name": str(_l("Reached")), "value": figures["reached"]},
        {"name": str(_l("Not reached")), "value": figures["not_reached"]},
        {"name": str(_l("Still to call")), "value": figures["pending"]}]}]}
    return Report(call_list, figures, outcomes, summaries, chart)


def not_reached(call_list: CallList, *, include_open: bool = True) -> list:
    """Who was not reached: closed without reaching them (refused, wrong number, no answer after every attempt)
    and, with ``include_open``, those still in the queue."""
    statuses = NOT_REACHED_STATUSES + (OPEN_STATUSES if include_open else ())
    return [t for t in targets(call_list) if t.status in statuses]


def not_reached_csv(call_list: CallList, *, actor_id: int | None = None, zone=None) -> str:
    rows = []
    for t in not_reached(call_list):
        last = t.last_called_at.astimezone(zone) if (t.last_called_at and zone) else t.last_called_at
        rows.append([target_name(t), target_phone(t),
                     t.company.email if t.company_id else (t.person.email or ""),
                     TARGET_STATUS.label(t.status), CALL_OUTCOME.label(t.last_outcome) if t.last_outcome else "",
                     t.attempts, last.replace(tzinfo=None) if last else None, t.caller.name if t.caller else ""])
    audit("callback.exported", organizer_id=call_list.organizer_id, user_id=actor_id, obj=call_list,
          details={"rows": len(rows), "what": "not_reached"})
    header = [_l("Customer"), _l("Phone"), _l("Email"), _l("Status"), _l("Last outcome"), _l("Attempts"),
              _l("Last call"), _l("Caller")]
    return csv_text([str(h) for h in header], rows)
