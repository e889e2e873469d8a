"""Demo data of the support module's callbacks part: after last year's show, a call list of key exhibitors and
one of key buyers, with their scripts (both languages), split between the sales and manager accounts and called
through (outcomes, answers and notes in Chinese and English); and in the live edition, a list of today's buyers
that the sales and on-site accounts are working through (their queues show customers due now).

Runs before the on-site part (a higher floor): who came is read from the world (DemoRegistration.came)."""
from __future__ import annotations

from datetime import timedelta

from ..core.demo import DemoWorld
from ..extensions import db
from . import callbacks
from .callbacks import Selection

EXHIBITOR_SCRIPT = (
    ("yes_no", "Will you exhibit again next year?", "明年还会参展吗？", ""),
    ("rating", "How satisfied are you with the visitors you met?", "您对本届观众质量的满意度如何？", ""),
    ("choice", "What brought you the most?", "本届展会最大的收获是什么？",
     "leads | New leads | 新线索\nbrand | Brand exposure | 品牌曝光\norders | Orders on site | 现场订单\n"
     "partners | Distributors and partners | 经销商与合作伙伴"),
    ("text", "What should we improve?", "您希望我们改进什么？", ""),
)
BUYER_SCRIPT = (
    ("rating", "How useful was the show for your purchasing?", "本届展会对您的采购有多大帮助？", ""),
    ("yes_no", "Did you place or plan an order with an exhibitor?", "您是否已向展商下单或计划下单？", ""),
    ("choice", "Which products will you buy next?", "您接下来计划采购哪类产品？",
     "office | Office furniture | 办公家具\nliving | Living room | 客厅家具\nlighting | Lighting | 照明\n"
     "outdoor | Outdoor | 户外家具"),
    ("text", "Which exhibitors should we invite next time?", "下届您希望我们邀请哪些展商？", ""),
)
NOTES_REACHED = ("很满意，明年继续", "Happy with the leads, wants a corner booth", "希望增加买家对接会",
                 "Asked for the visitor list by category", "对现场服务满意", "")
NOTES_OTHER = ("前台说负责人出差", "Voicemail, left a message", "号码停机", "Not interested in calls", "")
TEXTS_EXHIBITOR = ("停车太难，希望改善", "More international buyers please", "展位搭建时间太短",
                   "Better signage in hall 2", "希望提前公布买家名单")
TEXTS_BUYER = ("更多智能家居展商", "Scandinavian design brands", "希望有更多户外家具品牌", "LED lighting makers from Zhongshan")


def _script(call_list, script) -> None:
    for kind, en, zh, choices in script:
        callbacks.add_question(call_list, kind, en, zh, choices)


def _answer(world: DemoWorld, question, texts) -> object:
    rng = world.rng
    if question.kind == "yes_no":
        return "yes" if rng.random() < 0.7 else "no"
    if question.kind == "rating":
        return rng.choices((2, 3, 4, 5), weights=(1, 3, 6, 4))[0]
    if question.kind == "choice":
        return rng.choice(question.choices)["value"]
    return rng.choice(texts) if rng.random() < 0.6 else None


def _call_through(world: DemoWorld, call_list, texts, start, end, *, share_done: float = 1.0) -> None:
    """Call the list's customers between ``start`` and ``end``: most reached, some not; a share left to call."""
    rng = world.rng
    rows = callbacks.targets(call_list)
    span = max((end - start).total_seconds(), 60)
    for target in rows:
        if rng.random() > share_done:
            continue
        moment = start + timedelta(seconds=rng.uniform(0, span * 0.5))
        for _ in range(call_list.max_attempts):
            if not target.is_open or moment > end:
                break
            outcome = rng.choices(("reached", "no_answer", "call_back", "wrong_number", "refused"),
                                  weights=(60, 20, 8, 5, 5))[0]
            call_back_at = None
            if outcome == "call_back":
                call_back_at = moment + timedelta(hours=rng.choice((2, 4, 20)))
                if call_back_at > end:
                    outcome = "no_answer"
                    call_back_at = None
            answers = {}
            if outcome == "reached":
                for q in call_list.questions:
                    value = _answer(world, q, texts)
                    if value is not None:
                        answers[str(q.id)] = value
            note = rng.choice(NOTES_REACHED if outcome == "reached" else NOTES_OTHER)
            callbacks.record_call(target, caller_id=target.caller_id, attempt=target.attempts + 1, outcome=outcome,
                                  answers=answers, note=note, call_back_at=call_back_at, now=moment)
            moment = (call_back_at or moment + timedelta(hours=rng.choice((3, 26)))) + timedelta(minutes=5)


def contribute(world: DemoWorld) -> None:
    scope, rng = world.scope, world.rng
    callers = [world.user_ids[r] for r in ("sales", "manager") if r in world.user_ids]
    if not callers:
        return
    manager_id = world.user_ids.get("manager")
    if len(world.editions) > 1:
        last = world.editions[-2]
        # key exhibitors: those who took part, the ones with hot leads first
        chosen = callbacks.select_exhibitors(scope, last, Selection(stages=["contracted", "paid", "exhibited"]))
        hot = callbacks._hot_received(scope, last.id)
        chosen.sort(key=lambda e: -hot.get(e.id, 0))
        key = callbacks.create_list(scope, last, "展后重点展商回访 Post-show calls to key exhibitors", "exhibitor", None,
                                    actor_id=manager_id, now=world.now)
        key.filters = {"stages": ["contracted", "paid", "exhibited"], "min_hot_received": 1}
        callbacks.add_targets(key, exhibitor_ids=[e.id for e in chosen[:15]])
        _script(key, EXHIBITOR_SCRIPT)
        callbacks.assign(key, callers, actor_id=manager_id)
        start = _edition_end(last) + timedelta(days=2)
        _call_through(world, key, TEXTS_EXHIBITOR, start, min(start + timedelta(days=10), world.now))
        # key buyers: buyers and VIPs who decide and came
        came = {r.id for r in world.registrations.get(last.id, []) if r.came and not r.cancelled}
        buyers = [r for r in callbacks.select_registrations(scope, last, Selection(
            categories=["buyer", "vip"], authorities=["decides"])) if r.id in came]
        rng.shuffle(buyers)
        buyer_list = callbacks.create_list(scope, last, "重点买家回访 Key buyers after the show", "visitor", None,
                                           actor_id=manager_id, now=world.now)
        buyer_list.filters = {"categories": ["buyer", "vip"], "authorities": ["decides"], "checked_in": True}
        callbacks.add_targets(buyer_list, registration_ids=[r.id for r in buyers[:25]])
        _script(buyer_list, BUYER_SCRIPT)
        callbacks.assign(buyer_list, callers, actor_id=manager_id)
        _call_through(world, buyer_list, TEXTS_BUYER, start, min(start + timedelta(days=10), world.now),
                      share_done=0.9)
    # the live edition: today's buyers, being called now (queues of the sales and on-site accounts)
    live = world.live
    came = [r.id for r in world.registrations.get(live.id, []) if r.came and not r.cancelled]
    buyers = [r for r in callbacks.select_registrations(scope, live, Selection(categories=["buyer", "vip"]))
              if r.id in set(came)]
    if buyers:
        today = callbacks.create_list(scope, live, "买家满意度回访 Buyers' first-day calls", "visitor", None,
                                      actor_id=manager_id, now=world.now)
        today.filters = {"categories": ["buyer", "vip"], "checked_in": True}
        callbacks.add_targets(today, registration_ids=[r.id for r in buyers[:16]], now=world.now)
        _script(today, BUYER_SCRIPT[:2])
        day_callers = [world.user_ids[r] for r in ("sales", "onsite") if r in world.user_ids]
        callbacks.assign(today, day_callers, actor_id=manager_id)
        _call_through(world, today, TEXTS_BUYER, world.now - timedelta(hours=5), world.now - timedelta(minutes=10),
                      share_done=0.3)
    db.session.flush()


def _edition_end(edition):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(edition.ends_on, time(18), ZoneInfo(edition.timezone))
