"""Demo data of the post-show customers part: booth areas that behave like a real show's.

The exhibitors' demo draws every booth's m² afresh each edition, so nearly every returning company would look as
if it grew or shrank. Real returning exhibitors mostly keep their booth: here a company that took part in the
previous edition keeps its m² with a 60 % chance, takes a bigger booth with 25 % and a smaller one with 15 %.
That gives the customers pages every lifecycle stage the history allows (stability needs three editions in a
row: `expo bench-data` makes three editions; the two-edition demo shows exploration, formation and decline)."""
from __future__ import annotations

from decimal import Decimal

from ..core.demo import DemoWorld
from ..extensions import db

SIZES = (9, 18, 27, 36, 54, 72, 108)


def contribute(world: DemoWorld) -> None:
    rng = world.rng
    previous: dict[int, Decimal] = {}  # company id -> m² at the edition before
    for edition in world.editions:
        current = {}
        for exhibitor in world.exhibitors.get(edition.id, []):
            before = previous.get(exhibitor.company_id)
            if before is not None:
                roll = rng.random()
                index = SIZES.index(int(before)) if int(before) in SIZES else 2
                if roll < 0.25 and index < len(SIZES) - 1:
                    exhibitor.area_m2 = Decimal(SIZES[index + 1])
                elif roll < 0.40 and index > 0:
                    exhibitor.area_m2 = Decimal(SIZES[index - 1])
                else:
                    exhibitor.area_m2 = before
            if exhibitor.area_m2 is not None:
                current[exhibitor.company_id] = Decimal(exhibitor.area_m2)
        previous = current
    db.session.flush()
