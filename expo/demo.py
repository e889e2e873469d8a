"""Demo data and the synthetic data generator (one code path; benchmarks pass bigger sizes).

A living show: one organizer, a show with closed past editions and a live current one, a category
tree, exhibitors with Chinese and English names (some of last year's did not rebook), visitors of
every category (some returning), check-ins over the show days, and leads captured at the booths.

The shell only iterates: every registered module declares its part (``demo="expo.x.demo:contribute"``
in its ``Module``), and each part, lowest floor first, adds its rows to one shared ``DemoWorld``
(expo/core/demo.py). Times are relative to ``now``: the live edition's first show day was yesterday,
so nothing lies in the future.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone

from sqlalchemy import func, select

from .core.demo import DEMO_DOMAIN, DEMO_PASSWORD, DemoWorld, Sizes
from .core.models import Organizer, User
from .core.registry import registry
from .extensions import db

__all__ = ["DEMO_DOMAIN", "DEMO_PASSWORD", "generate", "is_empty", "load_demo", "sign_in_help"]


def is_empty() -> bool:
    return db.session.scalar(select(func.count(Organizer.id))) == 0


def demo_parts() -> list:
    """The registered modules' demo callables, in the registry's (floor) order."""
    return registry.demo_steps()


def generate(*, visitors: int = 1000, exhibitors: int = 30, editions: int = 2, seed: int = 2026,
             now: datetime | None = None) -> dict:
    """Create the show as it stands at ``now`` (default: the real now). Returns the demo accounts {role: email}."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    world = DemoWorld(rng=random.Random(seed), now=now,
                      sizes=Sizes(visitors=visitors, exhibitors=exhibitors, editions=editions))
    for part in demo_parts():
        part(world)
        db.session.flush()
    db.session.commit()
    return world.accounts


def load_demo(visitors: int = 1000) -> dict:
    """The demo of ``make run``: four editions of the show (three closed, one live), enough history for the
    lifecycle's steady customers and for the predictions' backtest over two editions."""
    return generate(visitors=visitors, exhibitors=30, editions=4)


def sign_in_help(base: str, accounts: dict | None) -> str:
    if not accounts:
        accounts = {}  # the first demo account of each role (the sales team has more reps than the one sign-in)
        for role, email in db.session.execute(select(User.role, User.email).where(
                User.email.like(f"%@{DEMO_DOMAIN}"), ~User.email.like("staff%")).order_by(User.id)):
            accounts.setdefault(role, email)
    if not accounts:
        return "Sign in with your own accounts."
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    for role, email in accounts.items():
        lines.append(f"  {role:<16} {email}")
    from .core.models import Edition

    slug = db.session.scalar(select(Edition.slug).where(Edition.status == "live").limit(1))
    if slug:
        lines.append(f"Public visitor registration: {base}/e/{slug}")
    return "\n".join(lines)
