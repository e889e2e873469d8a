"""Demo data of the post-show predictions part: the rebooking and return predictions of the demo's editions
(each with the model's backtest on the editions before it), computed as "Compute now" would."""
from __future__ import annotations

import logging

from ..core.demo import DemoWorld
from . import backtest

log = logging.getLogger(__name__)


def contribute(world: DemoWorld) -> None:
    for edition in world.editions[-2:]:  # the closed edition and the live one
        for kind in ("exhibitor", "visitor"):
            run = backtest.compute(edition, kind, now=world.now, user_id=world.user_ids.get("manager"))
            log.info("demo predictions %s %s: %s", edition.name, kind, run.status)
