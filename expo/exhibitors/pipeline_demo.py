"""The demo's pipeline part (issue 8): booth types for every edition, and a living pipeline in the live edition —
about 25 prospects across every stage with booth types, m², values and expected close dates, their contacts and
sales activities (calls, visits, mails, notes), a few lost with their reasons, contracts and payments."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from ..core.demo import cn_name, company_names, en_name
from ..extensions import db
from . import accounts, pipeline, services
from .models import Exhibitor

BOOTH_TYPES = (("RAW", "Raw space", "光地", 1200), ("SHELL", "Shell scheme", "标准展位", 1600),
               ("CORNER", "Corner shell scheme", "双开口标准展位", 1900), ("ISLAND", "Island", "岛型特装", 1400))
# (stage, how many) of the new prospects in the live edition.
# (The edition's signed exhibitors come from demo.py: a few of them go back to "contracted", awaiting the balance.)
STAGES = (("prospect", 7), ("contacted", 6), ("negotiating", 6), ("lost", 4))
LOST_REASONS = ("Budget cut this year: will come back next edition", "Chose a competing show in Shanghai",
                "No stand large enough in hall 1", "预算不足，明年再考虑")
ROLES = (("总经理", "General manager"), ("市场部经理", "Marketing manager"), ("销售总监", "Sales director"),
         ("展会负责人", "Trade show coordinator"))
NOTES = {"call": ("Called about hall 2 options; wants a corner", "电话沟通展位位置，倾向二号馆"),
         "visit": ("Visited the factory with the sales rep", "拜访工厂，介绍观众数据"),
         "mail": ("Sent the exhibitor brochure and price list", "发送参展手册和价格表"),
         "note": ("Decision after their board meeting next month", "下月董事会后决定")}


def contribute(world) -> None:
    rng, scope = world.rng, world.scope
    actor = world.user_ids.get("manager") or world.user_ids.get("owner")
    types_by_edition = {}
    for age, edition in enumerate(reversed(world.editions)):  # prices rose by ¥50/m² a year
        types_by_edition[edition.id] = [
            pipeline.save_booth_type(scope, edition, code=code, name_en=en, name_zh=zh,
                                     price_per_m2=Decimal(price - 50 * age))
            for code, en, zh, price in BOOTH_TYPES]
    live = world.live
    kinds = types_by_edition[live.id]
    today = world.now.date()

    # The exhibitors already signed up for the live edition get a booth type (their price stays agreed), a main
    # contact and their contract; most paid in full, a few still owe the balance (back to "contracted").
    for number, exhibitor in enumerate(world.exhibitors.get(live.id, []), start=1):
        exhibitor.booth_type = rng.choice(kinds)
        chinese = any(ord(c) > 0x2E80 for c in exhibitor.company.name)
        accounts.add_contact(scope, exhibitor.company, accounts.ContactData(
            cn_name(rng) if chinese else en_name(rng), rng.choice(ROLES)[0 if chinese else 1]))
        value = exhibitor.deal_value or Decimal("30000")
        contract = accounts.add_contract(scope, exhibitor, number=f"HT-{live.starts_on.year}-{number:03d}",
                                         signed_on=today - timedelta(days=rng.randint(30, 120)), amount=value,
                                         actor_id=actor)
        deposit = (value * Decimal("0.3")).quantize(Decimal("0.01"))
        accounts.add_payment(scope, contract, amount=deposit, paid_on=contract.signed_on + timedelta(days=7),
                             method="transfer", reference="Deposit 30%", actor_id=actor)
        if number % 4 == 0:
            services.set_status(exhibitor, "contracted", actor_id=actor)
        else:
            accounts.add_payment(scope, contract, amount=contract.balance,
                                 paid_on=min(today, contract.signed_on + timedelta(days=rng.randint(20, 40))),
                                 method=rng.choice(("transfer", "transfer", "card")), reference="Balance",
                                 actor_id=actor)

    taken = set(db.session.scalars(select(Exhibitor.company_id).where(Exhibitor.edition_id == live.id)))
    names = [n for n in company_names(rng, 80) if n]
    plan = [stage for stage, count in STAGES for _ in range(count)]
    for stage in plan:
        exhibitor = None
        while exhibitor is None and names:
            name = names.pop()
            company = services.find_or_create_company(scope, name)
            if company.id in taken:
                continue
            taken.add(company.id)
            chinese = any(ord(c) > 0x2E80 for c in name)
            exhibitor = services.add_exhibitor(scope, live, name, status="prospect", actor_id=actor,
                                               country="CN" if chinese else rng.choice(("DE", "IT", "US", "TR", "VN")))
        if exhibitor is None:
            break
        exhibitor.booth_type = rng.choice(kinds)
        exhibitor.area_m2 = Decimal(rng.choice((9, 18, 18, 27, 36, 54, 72)))
        if rng.random() < 0.3:  # a negotiated price now and then
            exhibitor.price = (exhibitor.area_m2 * exhibitor.booth_type.price_per_m2 * Decimal("0.9")).quantize(
                Decimal("1"))
        exhibitor.expected_close_on = today + timedelta(days=rng.randint(5, 120))
        exhibitor.categories = rng.sample(world.categories, k=min(len(world.categories), rng.randint(1, 2)))
        db.session.flush()
        chinese = any(ord(c) > 0x2E80 for c in exhibitor.company.name)
        # contacts: one to three people, the first the main one
        people = []
        for i in range(rng.randint(1, 3)):
            person = cn_name(rng) if chinese else en_name(rng)
            role = rng.choice(ROLES)[0 if chinese else 1]
            people.append(accounts.add_contact(scope, exhibitor.company, accounts.ContactData(
                person, role, email=f"contact{exhibitor.id}.{i}@example.{'cn' if chinese else 'com'}",
                phone=f"+86 139 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}" if chinese else "")))
        # the way along the pipeline, with an activity at each step
        path = {"prospect": [], "contacted": ["contacted"], "negotiating": ["contacted", "negotiating"],
                "lost": ["contacted"]}[stage]
        days_ago = rng.randint(20, 60)
        for step in ["prospect", *path]:
            kind = {"prospect": "mail", "contacted": "call", "negotiating": "visit"}[step]
            accounts.log_activity(scope, exhibitor.company, kind=kind, happened_on=today - timedelta(days=days_ago),
                                  summary=NOTES[kind][1 if chinese else 0], contact=rng.choice(people),
                                  exhibitor=exhibitor, actor_id=actor, today=today)
            days_ago = max(0, days_ago - rng.randint(3, 12))
            if step != "prospect":
                services.set_status(exhibitor, step, actor_id=actor)
        if rng.random() < 0.4:
            accounts.log_activity(scope, exhibitor.company, kind="note", happened_on=today - timedelta(days=days_ago),
                                  summary=NOTES["note"][1 if chinese else 0], exhibitor=exhibitor, actor_id=actor,
                                  today=today)
        if stage == "lost":
            services.set_status(exhibitor, "lost", actor_id=actor, reason=rng.choice(LOST_REASONS))
    db.session.flush()
