"""The exhibitors' part of the demo show: companies taking part in each edition (about three in four
rebook, new ones join), a few prospects in the live edition's pipeline, and the exhibitors' staff."""
from __future__ import annotations

from ..core.demo import DEMO_DOMAIN, DEMO_PASSWORD, DemoWorld, company_names, en_name
from ..extensions import db
from . import services

REBOOKING_RATE = 0.75


def contribute(world: DemoWorld) -> None:
    rng, size = world.rng, world.sizes.exhibitors
    pool = iter(company_names(rng, int(size * (1 + 0.35 * len(world.editions))) + 5))
    previous: list[str] = []
    for edition in world.editions:
        kept = [name for name in previous if rng.random() < REBOOKING_RATE][: size - 3]
        names = kept + [next(pool) for _ in range(size - len(kept))]
        taking_part = []
        for number, name in enumerate(names):
            hall = f"{1 + number % 9}"
            exhibitor = services.add_exhibitor(
                world.scope, edition, name, hall=hall, stand=f"{hall}{chr(65 + number % 6)}{10 + number:02d}",
                area_m2=rng.choice((9, 18, 36, 54, 72, 108)), price=rng.choice((9000, 18000, 36000, 54000)),
                status="exhibited" if edition.status == "closed" else "paid",
                country="CN" if any(ord(c) > 0x2E80 for c in name) else rng.choice(["DE", "IT", "US", "GB", "JP"]))
            exhibitor.categories = rng.sample(world.categories, k=rng.randint(1, 3))
            taking_part.append(exhibitor)
        world.exhibitors[edition.id] = taking_part
        previous = names
    # A few prospects for the live edition are still in the sales pipeline.
    for name in [next(pool) for _ in range(3)]:
        services.add_exhibitor(world.scope, world.live, name,
                               status=rng.choice(("prospect", "contacted", "negotiating")))
    db.session.flush()

    # The first live exhibitor has the demo's exhibitor sign-ins; every other one a booth staff member.
    first, *others = world.exhibitors[world.live.id]
    admin = services.add_staff(first, f"exhibitor@{DEMO_DOMAIN}", "Eva Exhibitor 易展商", DEMO_PASSWORD,
                               "exhibitor_admin")
    booth = services.add_staff(first, f"booth@{DEMO_DOMAIN}", "Ben Booth 卞展位", DEMO_PASSWORD, "booth_staff")
    world.accounts.update(exhibitor_admin=admin.email, booth_staff=booth.email)
    world.staff[first.id] = [admin.id, booth.id]
    for exhibitor in others:
        user = services.add_staff(exhibitor, f"staff{exhibitor.id}@{DEMO_DOMAIN}", en_name(rng), DEMO_PASSWORD,
                                  "booth_staff")
        world.staff[exhibitor.id] = [user.id]
