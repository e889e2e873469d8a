"""Demo data of the support module: each part adds its own (tickets_demo, callbacks_demo)."""
from __future__ import annotations

from ..core.demo import DemoWorld
from . import callbacks_demo, tickets_demo


def contribute(world: DemoWorld) -> None:
    tickets_demo.contribute(world)
    callbacks_demo.contribute(world)
