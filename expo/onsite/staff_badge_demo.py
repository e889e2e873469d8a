"""The demo's staff badges (issue 8): the live edition's quota rule (2 + 1 per 9 m²) and badges for the booth
staff of the first exhibitors, the demo exhibitor's quota half used. Called from the on-site demo."""
from __future__ import annotations

from datetime import timedelta

from ..core.demo import cn_name, en_name
from . import staff_badges

JOBS = ("Sales manager 销售经理", "Engineer 工程师", "Marketing 市场专员", "Interpreter 翻译")


def contribute(world) -> None:
    rng, live = world.rng, world.live
    staff_badges.set_quota(world.scope, live, base="2", per_m2="9", maximum="12")
    for n, exhibitor in enumerate(world.exhibitors.get(live.id, [])[:8]):
        allowed = staff_badges.quota_of(exhibitor).allowed
        wanted = max(1, allowed // 2) if n == 0 else rng.randint(0, allowed)
        for k in range(wanted):
            name = cn_name(rng) if rng.random() < 0.6 else en_name(rng)
            badge = staff_badges.add_staff_badge(exhibitor, staff_badges.StaffMember(name, rng.choice(JOBS)))
            # registered over the last weeks, as the rest of the demo (nothing after world.now)
            when = world.now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 1440))
            registration = badge.registration
            badge.created_at = registration.created_at = registration.person.created_at = when
            registration.person.updated_at = when
            if registration.consent_at is not None:
                registration.consent_at = when
