"""The demo's rep part (issue 8): three sales reps (the demo's sales sign-in and two colleagues), the live
edition's assignment rules (China to the demo rep, Europe to one colleague, round-robin for the rest), every
exhibitor assigned (last edition's too, for retention), and follow-ups around today, some overdue."""
from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from ..core import services as core
from ..core.demo import DEMO_DOMAIN, DEMO_PASSWORD, DemoWorld
from ..core.models import User
from ..extensions import db
from . import assignment, followups
from .models import Company, Exhibitor

COLLEAGUES = (("lina", "Li Na 李娜"), ("tom", "Tom Walker 汤姆"))
EUROPE = "DE, IT, GB, FR, ES, NL"
OVERSEAS = "US, JP, KR, SG"
OPEN_TASKS = (
    "Call back about the corner stand 回电：角位展位", "Send the floor plan and price list 发送平面图和价目表",
    "Visit the factory in Foshan 拜访佛山工厂", "Follow up on the quotation 跟进报价",
    "Confirm the booth size 确认展位面积", "Invite to the VIP dinner 邀请参加VIP晚宴",
)
SIGNED_TASKS = (
    "Chase the second payment 催收第二笔款项", "Send the exhibitor manual 发送参展手册",
    "Check the fascia name 核对楣板名称", "Book the rebooking meeting 预约续展洽谈",
)


def contribute(world: DemoWorld) -> None:
    scope = world.scope
    rng = world.rng
    demo_rep = db.session.get(User, world.user_ids["sales"])
    team = [demo_rep] + [core.create_user(world.organizer.id, f"{key}@{DEMO_DOMAIN}", name, DEMO_PASSWORD, "sales")
                         for key, name in COLLEAGUES]
    manager_id = world.user_ids.get("manager")

    # Earlier editions: each company had a rep (by country, like this year), so retention can be measured.
    for edition in world.editions[:-1]:
        for exhibitor in _exhibitors(edition):
            assignment.assign(exhibitor, _by_country(exhibitor, team, rng), actor_id=manager_id, reason="hand")

    # The live edition: rules, applied to every exhibitor.
    live = world.live
    assignment.add_rule(scope, live, assignment.RuleData("region", rep_id=demo_rep.id, countries="CN, HK, MO, TW"),
                        actor_id=manager_id)
    assignment.add_rule(scope, live, assignment.RuleData("region", rep_id=team[2].id, countries=EUROPE),
                        actor_id=manager_id)
    assignment.add_rule(scope, live, assignment.RuleData("region", rep_id=team[1].id, countries=OVERSEAS),
                        actor_id=manager_id)
    assignment.add_rule(scope, live, assignment.RuleData("round_robin", rep_ids=tuple(u.id for u in team)),
                        actor_id=manager_id)
    exhibitors = _exhibitors(live)
    waiting = [e for e in exhibitors if e.status == "prospect"][-1:]  # one prospect left for assignment by hand
    for exhibitor in exhibitors:
        if exhibitor in waiting:
            continue
        if exhibitor.status in ("lost", "cancelled"):  # the rules skip those: they had a rep when they fell out
            assignment.assign(exhibitor, _by_country(exhibitor, team, rng), actor_id=manager_id)
        else:
            assignment.assign_new(exhibitor, actor_id=manager_id)

    # Follow-ups around today: prospects and deals get calls and visits, signed exhibitors paperwork.
    today = world.today
    for exhibitor in exhibitors:
        if exhibitor.sales_rep_id is None or exhibitor.status in ("lost", "cancelled"):
            continue
        selling = exhibitor.status in ("prospect", "contacted", "negotiating")
        if not selling and rng.random() < 0.6:
            continue
        for _ in range(rng.choice((1, 2)) if selling else 1):
            offset = rng.choice((-6, -4, -2, -1, 0, 0, 1, 2, 3, 5, 9))
            follow_up = followups.add_follow_up(
                scope, exhibitor, rng.choice(OPEN_TASKS if selling else SIGNED_TASKS), today + timedelta(days=offset),
                at=time(rng.choice((9, 10, 11, 14, 15, 16)), rng.choice((0, 30))), actor_id=exhibitor.sales_rep_id,
                now=world.now - timedelta(days=10))
            if offset < -3 and rng.random() < 0.5:
                follow_up.escalated_at = world.now - timedelta(days=1)  # the managers were told yesterday
    # The demo rep's Today page always has something overdue, due today and ahead, and one done.
    mine = [e for e in exhibitors if e.sales_rep_id == demo_rep.id and e.status not in ("lost", "cancelled")]
    for offset, title in ((-3, "Send the contract draft 发送合同草稿"), (-1, "Call about the hall 2 options 电话沟通2号馆方案"),
                          (0, "Confirm the stand number 确认展位号"), (0, OPEN_TASKS[0]), (2, OPEN_TASKS[2]),
                          (4, OPEN_TASKS[3])):
        if mine:
            followups.add_follow_up(scope, rng.choice(mine), title, today + timedelta(days=offset), at=time(10, 0),
                                    actor_id=demo_rep.id, now=world.now - timedelta(days=7))
    if mine:
        done = followups.add_follow_up(scope, mine[0], "Mail the rebooking offer 发送续展邀请", today, at=time(9, 0),
                                       actor_id=demo_rep.id, now=world.now - timedelta(days=3))
        followups.complete(done, actor_id=demo_rep.id, now=world.now - timedelta(hours=1))
    db.session.flush()


def _exhibitors(edition) -> list[Exhibitor]:
    return list(db.session.scalars(select(Exhibitor).join(Company).where(Exhibitor.edition_id == edition.id)
                                   .order_by(Exhibitor.created_at, Exhibitor.id)))


def _by_country(exhibitor: Exhibitor, team: list[User], rng) -> User:
    country = exhibitor.company.country
    if country in ("CN", "HK", "MO", "TW"):
        return team[0]
    if country in assignment.parse_countries(EUROPE):
        return team[2]
    if country in assignment.parse_countries(OVERSEAS):
        return team[1]
    return rng.choice(team)
