"""Demo data of the post-show winback part. The churn watch list needs no rows of its own: it is computed from the
demo's values and predictions (customers_demo, predictions_demo). The win-back campaign sent to it after the
closed edition is made by the campaigns module (floor 7, ``expo.campaigns.winback.demo``): postshow never
imports campaigns."""
from __future__ import annotations

from ..core.demo import DemoWorld


def contribute(world: DemoWorld) -> None:
    pass
