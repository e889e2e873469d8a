"""The churn watch list page (edition menu): valuable customers at risk after the edition just held, with reasons
and a suggested action, each ticked; the selection starts a win-back campaign (posted to the campaigns module,
whose address the ``watchlist_campaign`` hook gives: postshow never imports campaigns)."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request

from ..core import registry as core_registry
from ..core.auth import current_scope, edition_scoped, require
from . import VIEW_REPORTS, watchlist

bp = edition_scoped(Blueprint("watchlist", __name__))


def _campaign_url(edition, kind: str) -> str | None:
    for hook in core_registry.registry.hook("watchlist_campaign"):
        url = hook(edition, kind)
        if url:
            return url
    return None


@bp.route("/org/editions/<int:edition_id>/watchlist", endpoint="watchlist")
@require(VIEW_REPORTS, organizer=True)
def watchlist_page():
    tab = request.args.get("tab") if request.args.get("tab") in watchlist.KINDS else "exhibitor"
    held = watchlist.held_edition(g.edition)
    scope = current_scope()
    rows = watchlist.watch_list(scope, held, tab) if held is not None else []
    target = watchlist.next_edition(held) if held is not None else None
    return render_template("postshow/watchlist.html", edition=g.edition, held=held, target=target, tab=tab,
                           rows=rows, campaign_url=_campaign_url(g.edition, tab) if held is not None else None,
                           threshold=watchlist.RISK_THRESHOLD)
