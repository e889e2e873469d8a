"""Demo recommendations: the live edition's recommendations computed over everything the lower floors made
(interests, answers, products, past editions' leads and meetings), and the backtest replaying the previous
edition, so that the organizer's Matchmaking page, the exhibitors' "Visitors to invite" and the visitors' pages
show real figures from the first start."""
from __future__ import annotations


def contribute(world) -> None:
    from . import services

    if not world.editions:
        return
    live = world.live
    services.settings_for(live, create=True)
    services.compute(live)
    if len(world.editions) > 1:
        try:
            services.store_backtest(live)
        except Exception as error:  # the demo stays usable without a backtest; the page offers to run it
            services.store_backtest_error(live, f"{type(error).__name__}: {error}")
