"""Runs of the engine over an edition: full (asked from the organizer's page, the CLI, the demo) and incremental
(the beat, for the registrations changed since the last run), the engine's answer explained and stored, and the
backtest kept on the settings. Callers use them through ``services`` (which re-exports them)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from ..core.db import take_write_lock, utcnow
from ..core.models import AuditEntry, Edition
from ..core.services import audit, move_status
from ..exhibitors.models import Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from . import explain
from .models import FOR_EXHIBITOR, FOR_VISITOR, RUN_STATUS, MatchmakingSettings, Recommendation
from .services import INACTIVE_STATUSES, excluded_pairs, settings_for, weights_of

# A run still "queued" or "running" after this long lost its worker (killed, restarted): it counts as failed, and
# the next beat (or "Compute now") starts afresh.
STALE_AFTER = timedelta(minutes=30)
# Owners (visitors, then exhibitors) explained and stored per chunk: each chunk is explained outside any write
# transaction, then written in its own short one (delete its owners' rows, insert theirs, commit).
CHUNK_OWNERS = 2000
# An incremental run scores the changed visitors against every exhibitor in chunks of at most this many pairs;
# above INCREMENTAL_MAX changed visitors a full run is cheaper (and bounded in memory).
PAIRS_PER_CHUNK = 2_000_000
INCREMENTAL_MAX = 5000

# --- runs -----------------------------------------------------------------------------------------------

def request_run(edition: Edition, *, actor_id: int | None = None) -> MatchmakingSettings:
    """Ask for a full run over the edition (the worker computes it after the commit)."""
    from . import tasks

    settings = settings_for(edition, create=True)
    if settings.status != "queued":
        move_status(settings, RUN_STATUS, "queued", actor_id=actor_id)
    tasks.compute_edition.delay(edition.id)
    return settings


def active_registrations(edition_id: int):
    return (select(Registration.id).where(Registration.edition_id == edition_id,
                                          Registration.status.not_in(INACTIVE_STATUSES),
                                          Registration.erased_at.is_(None)))


def _set_status(settings_id: int, organizer_id: int, target: str, *, where=None, actor_id=None, **values) -> bool:
    """A committed conditional move of the run's status (no row lock held across a run): True if it moved."""
    stmt = update(MatchmakingSettings).where(MatchmakingSettings.id == settings_id)
    if where is not None:
        stmt = stmt.where(where)
    moved = db.session.execute(stmt.values(status=target, **values),
                               execution_options={"synchronize_session": False}).rowcount == 1
    if moved:
        audit("matchmakingsettings.status", organizer_id=organizer_id, user_id=actor_id,
              details={"to": target, "settings_id": settings_id})
    db.session.commit()
    return moved


def _claim(edition: Edition, actor_id: int | None) -> tuple[int, datetime] | None:
    """Claim the edition's run: a committed conditional update to "running" with its start time. None when another
    run of the edition is running (and not stale): that one's answer will be stored."""
    settings = settings_for(edition, create=True)
    settings_id = settings.id
    db.session.commit()
    started = utcnow()
    free = or_(MatchmakingSettings.status != "running", MatchmakingSettings.run_started_at.is_(None),
               MatchmakingSettings.run_started_at < started - STALE_AFTER)
    if not _set_status(settings_id, edition.organizer_id, "running", where=free, actor_id=actor_id,
                       run_started_at=started, last_error=""):
        return None
    return settings_id, started


def compute(edition: Edition, *, registration_ids=None, actor_id: int | None = None,
            explained_ranks: int | None = None) -> int | None:
    """Run the engine over the edition and store its top N both ways; ``registration_ids``: an incremental run —
    only these visitors' own lists are replaced, and they enter (or leave) the exhibitors' lists where their new
    scores place them. Returns the rows stored, or None when another run of the edition is in progress.

    The run commits: its claim ("running"), then each chunk of owners (explained outside any write transaction,
    written in a short one), then its end ("done"). A failure marks the run failed (its reason kept) and raises."""
    edition_id, organizer_id = edition.id, edition.organizer_id
    claim = _claim(edition, actor_id)
    if claim is None:
        return None
    settings_id, started = claim
    try:
        settings = db.session.get(MatchmakingSettings, settings_id)
        db.session.refresh(settings)
        weights, top_n = weights_of(settings), settings.top_n
        if registration_ids is not None and len(set(registration_ids)) > INCREMENTAL_MAX:
            registration_ids = None  # a big import: a full run costs less than scoring each changed visitor
        excluded = excluded_pairs(edition, settings)
        db.session.rollback()  # reads only so far: no transaction stays open while the engine runs
        stored = _run_and_store(edition, weights, excluded, top_n=top_n, started=started,
                                registration_ids=registration_ids, explained_ranks=explained_ranks)
        take_write_lock(db.session)
        rows = db.session.scalar(select(func.count(Recommendation.id)).where(Recommendation.edition_id == edition_id))
        _set_status(settings_id, organizer_id, "done", actor_id=actor_id,
                    where=(MatchmakingSettings.status == "running") & (MatchmakingSettings.run_started_at == started),
                    computed_at=started, computed_rows=rows, last_error="")
        return stored
    except Exception as error:
        db.session.rollback()
        _mark_failed(settings_id, organizer_id, f"{type(error).__name__}: {error}", started=started)
        raise


def _mark_failed(settings_id: int, organizer_id: int, message: str, *, started=None) -> None:
    where = None if started is None else (MatchmakingSettings.run_started_at == started)
    _set_status(settings_id, organizer_id, "failed", where=where, last_error=message[:2000])


def fail_run(edition: Edition, message: str) -> None:
    """Mark the edition's run failed with its reason (from any state: a failed beat refresh of a "done" edition
    too). Commits."""
    settings = settings_for(edition, create=True)
    settings_id = settings.id
    db.session.commit()
    _mark_failed(settings_id, edition.organizer_id, message)


def expire_stale_runs(now: datetime | None = None) -> int:
    """Runs "queued" or "running" longer than STALE_AFTER lost their worker: marked failed (the beat retries them).
    Commits; returns how many."""
    cutoff = (now or utcnow()) - STALE_AFTER
    stale = list(db.session.execute(select(MatchmakingSettings.id, MatchmakingSettings.organizer_id).where(or_(
        (MatchmakingSettings.status == "running")
        & or_(MatchmakingSettings.run_started_at.is_(None), MatchmakingSettings.run_started_at < cutoff),
        (MatchmakingSettings.status == "queued") & (MatchmakingSettings.updated_at < cutoff)))))
    db.session.rollback()
    for settings_id, organizer_id in stale:
        _set_status(settings_id, organizer_id, "failed",
                    where=MatchmakingSettings.status.in_(("queued", "running")),
                    last_error=str(_l("The run stopped without an answer (its worker ended); it is tried again.")))
    return len(stale)


def _run_and_store(edition: Edition, weights: dict, excluded: set, *, top_n: int, started: datetime,
                   registration_ids=None, explained_ranks: int | None = None) -> int:
    """Load the edition's inputs (features), run the engine, then per chunk of owners: explain the first ranks,
    write the chunk (short write transaction), free it. Returns the rows stored."""
    import numpy as np

    from . import engine, features

    inputs = features.load(edition.id, exclude_pairs=[(r, e) for e, r in excluded])
    db.session.rollback()
    if not len(inputs.visitor_ids) or not len(inputs.exhibitor_ids):
        if registration_ids is None:
            _write(edition, [], delete_where=[Recommendation.edition_id == edition.id])
        return 0
    model = engine.prepare(inputs)
    ranks = EXPLAINED_RANKS if explained_ranks is None else explained_ranks
    visitor_index = {int(v): i for i, v in enumerate(inputs.visitor_ids)}
    rows = None
    if registration_ids is not None:
        rows = np.array(sorted(visitor_index[r] for r in set(registration_ids) if r in visitor_index), dtype=np.int64)
    # (an incremental run whose changed visitors all left: no engine call, their rows go below)
    result = engine.recommend(model, weights, k=top_n, visitor_rows=rows) if rows is None or len(rows) else None
    v_ids, e_ids = inputs.visitor_ids, inputs.exhibitor_ids
    base = (edition.organizer_id, edition.id, started)
    stored = 0
    # the visitors' own lists, chunk by chunk
    owners = np.arange(len(v_ids)) if rows is None else rows
    for start in range(0, len(owners), CHUNK_OWNERS):
        chunk = owners[start:start + CHUNK_OWNERS]
        pairs = _top_pairs(result.visitor_top, result.visitor_scores, result.visitor_parts, chunk, top_n,
                           owner_is_visitor=True)
        tuples = _tuples(engine, model, weights, pairs, ranks, v_ids, e_ids, FOR_VISITOR, base)
        ids = [int(v_ids[v]) for v in chunk]
        stored += _write(edition, tuples, delete_where=[Recommendation.edition_id == edition.id,
                                                        Recommendation.direction == FOR_VISITOR,
                                                        Recommendation.registration_id.in_(ids)])
    if registration_ids is not None:
        changed = set(registration_ids)
        gone = sorted(changed - {int(v_ids[v]) for v in rows})  # changed and no longer active: out of their list
        if gone:
            _write(edition, [], delete_where=[Recommendation.edition_id == edition.id,
                                              Recommendation.direction == FOR_VISITOR,
                                              Recommendation.registration_id.in_(gone)])
        return stored + _merge_exhibitor_lists(edition, engine, model, weights, inputs, rows, changed, top_n,
                                               ranks, base)
    for start in range(0, len(e_ids), CHUNK_OWNERS):
        chunk = np.arange(start, min(start + CHUNK_OWNERS, len(e_ids)))
        pairs = _top_pairs(result.exhibitor_top, result.exhibitor_scores, result.exhibitor_parts, chunk, top_n,
                           owner_is_visitor=False)
        tuples = _tuples(engine, model, weights, pairs, ranks, v_ids, e_ids, FOR_EXHIBITOR, base)
        ids = [int(e_ids[e]) for e in chunk]
        stored += _write(edition, tuples, delete_where=[Recommendation.edition_id == edition.id,
                                                        Recommendation.direction == FOR_EXHIBITOR,
                                                        Recommendation.exhibitor_id.in_(ids)])
    # rows of owners no longer in the edition's inputs (cancelled, withdrawn): written before this run
    _write(edition, [], delete_where=[Recommendation.edition_id == edition.id, Recommendation.computed_at < started])
    return stored


def _top_pairs(top, scores, parts, owners, top_n: int, *, owner_is_visitor: bool):
    """(v index, e index, score, parts, rank) arrays of the owners' lists (valid entries with a score > 0)."""
    import numpy as np

    t, s, p = top[owners, :top_n], scores[owners, :top_n], parts[owners, :top_n]
    ranks = np.broadcast_to(np.arange(1, t.shape[1] + 1), t.shape)
    own = np.broadcast_to(np.asarray(owners)[:, None], t.shape)
    keep = (t >= 0) & (s > 0)
    other = t[keep].astype(np.int64)
    mine = own[keep].astype(np.int64)
    v, e = (mine, other) if owner_is_visitor else (other, mine)
    return v, e, s[keep], p[keep], ranks[keep]


def _tuples(engine, model, weights, pairs, ranks: int, v_ids, e_ids, direction: str, base: tuple) -> list[tuple]:
    """The rows to insert, as plain tuples (COLUMNS order); pairs ranked ≤ ``ranks`` carry the engine's reasons,
    the others their signals' contributions only (explain.words tells them)."""
    v, e, scores, parts, rank = pairs
    explained = {}
    wanted = rank <= ranks
    if wanted.any():
        batch = getattr(engine, "explain_many", None)
        vw, ew = v[wanted], e[wanted]
        items = (batch(model, vw, ew, weights) if batch is not None
                 else [engine.explain(model, int(a), int(b), weights) for a, b in zip(vw, ew)])
        explained = {(int(a), int(b)): stored_reasons(item) for a, b, item in zip(vw, ew, items)}
    organizer_id, edition_id, now = base
    out = []
    for a, b, score, part, r in zip(v.tolist(), e.tolist(), scores.tolist(), parts.tolist(), rank.tolist()):
        signals = {name: round(float(x), 5) for name, x in zip(engine.SIGNALS, part) if x > 0}
        out.append((organizer_id, edition_id, direction, int(v_ids[a]), int(e_ids[b]), int(r), float(score),
                    signals, explained.get((a, b), []), now))
    return out


COLUMNS = ("organizer_id", "edition_id", "direction", "registration_id", "exhibitor_id", "rank", "score", "signals",
           "reasons", "computed_at")


def _write(edition: Edition, tuples: list[tuple], *, delete_where) -> int:
    """One short write transaction: delete the owners' rows, insert the new ones in bulk, commit."""
    take_write_lock(db.session)
    db.session.execute(delete(Recommendation).where(*delete_where), execution_options={"synchronize_session": False})
    if tuples:
        _bulk_insert(tuples)
    db.session.commit()
    return len(tuples)


def _bulk_insert(tuples: list[tuple]) -> None:
    """Plain tuples straight to the driver: COPY on PostgreSQL, executemany on SQLite (no row dicts)."""
    from datetime import timezone

    connection = db.session.connection()
    driver = connection.connection.driver_connection

    def plain(row):
        *head, signals, reasons, at = row
        return (*head, json.dumps(signals, ensure_ascii=False), json.dumps(reasons, ensure_ascii=False),
                at.astimezone(timezone.utc).replace(tzinfo=None))

    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY recommendations ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in tuples:
                    copy.write_row(plain(row))
    else:
        marks = ", ".join("?" for _c in COLUMNS)
        cursor = driver.cursor()
        cursor.executemany(f"INSERT INTO recommendations ({', '.join(COLUMNS)}) VALUES ({marks})",
                           [plain(row) for row in tuples])
        cursor.close()


# Pairs ranked this high on either side get the engine's reasons: the ranks pages, digests and exports show first
# (≤ 10). Lower ranks keep their signals' contributions and are told by them (explain.words).
EXPLAINED_RANKS = 10


MAX_MATCHES = 3  # category and text matches kept per stored reason


def stored_reasons(explained: dict) -> list[dict]:
    """The engine's explanation of a pair, compact for storage: its reasons without ids, at most a few matches
    each (explain.py turns them into words)."""
    out = []
    for reason in explained.get("reasons", ()):
        reason = dict(reason)
        if "matches" in reason:
            reason["matches"] = [{k: v for k, v in m.items() if not k.endswith("_id") and k != "doc_ref"}
                                 for m in reason["matches"][:MAX_MATCHES]]
        out.append(reason)
    return out


def _merge_exhibitor_lists(edition, engine, model, weights, inputs, rows, changed: set[int], top_n: int,
                           ranks: int, base: tuple) -> int:
    """An incremental run: each exhibitor's list is its stored rows without the changed visitors, plus the
    changed visitors' new scores (scored in chunks of visitors × every exhibitor), cut to the top N again (only
    exhibitors whose list changes are rewritten, in one short write transaction)."""
    import numpy as np

    v_ids, e_ids = inputs.visitor_ids, inputs.exhibitor_ids
    bars = {e: (low, n) for e, low, n in db.session.execute(
        select(Recommendation.exhibitor_id, func.min(Recommendation.score), func.count(Recommendation.id))
        .where(Recommendation.edition_id == edition.id, Recommendation.direction == FOR_EXHIBITOR,
               Recommendation.registration_id.not_in(changed))
        .group_by(Recommendation.exhibitor_id))}
    low = np.array([bars.get(int(e), (0.0, 0))[0] for e in e_ids], dtype=np.float64)
    full = np.array([bars.get(int(e), (0.0, 0))[1] >= top_n for e in e_ids])
    new_by_exhibitor: dict[int, list] = {}
    profile = engine.SIGNALS.index("profile")
    per = max(1, PAIRS_PER_CHUNK // max(1, len(e_ids)))
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        v_idx = np.repeat(chunk, len(e_ids))
        e_idx = np.tile(np.arange(len(e_ids), dtype=np.int64), len(chunk))
        scores, parts = engine.score_pairs(model, v_idx, e_idx, weights)
        # the full run's rule (engine._by_score): a pair with only the visitor's profile in common is no suggestion
        keep = scores - parts[:, profile] > engine.MIN_SCORE
        if inputs.exclude is not None:
            keep &= np.asarray(inputs.exclude[v_idx, e_idx]).ravel() == 0
        keep &= ~full[e_idx] | (scores > low[e_idx])  # below a full list's last row: cannot enter it
        for v, e, score, part in zip(v_idx[keep], e_idx[keep], scores[keep], parts[keep]):
            new_by_exhibitor.setdefault(int(e_ids[e]), []).append((int(v), int(e), float(score), part))
        del v_idx, e_idx, scores, parts, keep
    touched = set(new_by_exhibitor)
    touched |= set(db.session.scalars(select(Recommendation.exhibitor_id).where(
        Recommendation.edition_id == edition.id, Recommendation.direction == FOR_EXHIBITOR,
        Recommendation.registration_id.in_(changed))))
    if not touched:
        db.session.rollback()
        return 0
    kept: dict[int, list] = {}
    for r, e, score, signals, reasons in db.session.execute(select(
            Recommendation.registration_id, Recommendation.exhibitor_id, Recommendation.score,
            Recommendation.signals, Recommendation.reasons).where(
            Recommendation.edition_id == edition.id, Recommendation.direction == FOR_EXHIBITOR,
            Recommendation.exhibitor_id.in_(touched), Recommendation.registration_id.not_in(changed))):
        kept.setdefault(e, []).append((score, r, signals, reasons))
    db.session.rollback()
    organizer_id, edition_id, now = base
    out, to_explain = [], []
    for e_id in touched:
        items = [(score, r, signals, reasons, None) for score, r, signals, reasons in kept.get(e_id, [])]
        items += [(score, int(v_ids[v]), {n: round(float(x), 5) for n, x in zip(engine.SIGNALS, part) if x > 0},
                   None, (v, e)) for v, e, score, part in new_by_exhibitor.get(e_id, [])]
        items.sort(key=lambda item: -item[0])
        for rank, (score, r, signals, reasons, index) in enumerate(items[:top_n], 1):
            if reasons is None:
                reasons = []
                if rank <= ranks:
                    to_explain.append((len(out), index))
            out.append([organizer_id, edition_id, FOR_EXHIBITOR, r, e_id, rank, float(score), signals, reasons, now])
    if to_explain:
        batch = getattr(engine, "explain_many", None)
        vs = np.array([i[0] for _n, i in to_explain])
        es = np.array([i[1] for _n, i in to_explain])
        items = (batch(model, vs, es, weights) if batch is not None
                 else [engine.explain(model, int(a), int(b), weights) for a, b in zip(vs, es)])
        for (n, _i), item in zip(to_explain, items):
            out[n][8] = stored_reasons(item)
    return _write(edition, [tuple(row) for row in out],
                  delete_where=[Recommendation.edition_id == edition.id, Recommendation.direction == FOR_EXHIBITOR,
                                Recommendation.exhibitor_id.in_(touched)])


def changed_registrations(edition: Edition, since: datetime | None) -> list[int]:
    """Registrations of the edition to recompute: new since the last run, changed since (their registration or
    person in the audit log: details, answers, interests, category, status)."""
    active = active_registrations(edition.id)
    if since is None:
        return list(db.session.scalars(active))
    new = set(db.session.scalars(active.where(Registration.created_at >= since)))
    touched_regs = set(db.session.scalars(select(AuditEntry.object_id).where(
        AuditEntry.organizer_id == edition.organizer_id, AuditEntry.object_type == "registrations",
        AuditEntry.at >= since)))
    touched_persons = set(db.session.scalars(select(AuditEntry.object_id).where(
        AuditEntry.organizer_id == edition.organizer_id, AuditEntry.object_type == "persons",
        AuditEntry.at >= since)))
    changed = set()
    if touched_regs:
        changed |= set(db.session.scalars(select(Registration.id).where(Registration.edition_id == edition.id,
                                                                        Registration.id.in_(touched_regs))))
    if touched_persons:
        changed |= set(db.session.scalars(select(Registration.id).where(Registration.edition_id == edition.id,
                                                                        Registration.person_id.in_(touched_persons))))
    # (A registration that has no list after its run stays without: it is not picked again on every beat.)
    return sorted(new | changed)


def products_changed(edition: Edition, since: datetime | None) -> bool:
    """Did an exhibitor's offer change since the last run (products, categories, profile)? Then the next run
    is a full one: a product changes the scores of every visitor."""
    if since is None:
        return True
    return bool(db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.organizer_id == edition.organizer_id,
        AuditEntry.object_type.in_(("products", "companies", "exhibitors")),
        AuditEntry.at >= since)))


def refresh(edition: Edition) -> int | None:
    """The beat's work for one edition: a full run if exhibitors' offers changed (or its last run failed before
    any answer), else an incremental one for the registrations changed since; None when nothing changed."""
    settings = settings_for(edition)
    if settings.id is None or settings.status in ("queued", "running"):
        return None
    if settings.computed_at is None:
        return compute(edition) if settings.status == "failed" else None
    since = settings.computed_at
    if products_changed(edition, since):
        return compute(edition)
    changed = changed_registrations(edition, since)
    removed = set(db.session.scalars(select(Recommendation.registration_id).where(
        Recommendation.edition_id == edition.id, ~Recommendation.registration_id.in_(active_registrations(edition.id)))))
    if removed:  # cancelled or erased since: out of every list (one short write transaction)
        take_write_lock(db.session)
        db.session.execute(delete(Recommendation).where(Recommendation.edition_id == edition.id,
                                                        Recommendation.registration_id.in_(removed)),
                           execution_options={"synchronize_session": False})
        if not changed:
            settings.computed_at = utcnow()
        db.session.commit()
    if not changed:
        return None
    return compute(edition, registration_ids=changed)


def editions_to_refresh() -> list[int]:
    """Editions the beat looks at: computed before, or whose last run failed (retried)."""
    return list(db.session.scalars(select(MatchmakingSettings.edition_id).where(
        or_(MatchmakingSettings.computed_at.is_not(None), MatchmakingSettings.status == "failed"),
        MatchmakingSettings.status.in_(("done", "failed")))))


# --- the backtest ---------------------------------------------------------------------------------------

def backtest_edition(edition: Edition) -> Edition:
    """The edition the backtest replays: the latest earlier edition of the show (its leads and meetings happened),
    else this one (a show's first edition: scored against what happened so far)."""
    earlier = db.session.scalar(select(Edition).where(
        Edition.show_id == edition.show_id, Edition.organizer_id == edition.organizer_id,
        Edition.starts_on < edition.starts_on).order_by(Edition.starts_on.desc()).limit(1))
    return earlier or edition


def store_backtest(edition: Edition, *, k: int = 10) -> dict:
    """Recommend for the replayed edition from what was known before it, score against its leads and meetings
    (backtest.py), with the organizer's current weights; kept on the settings for the page."""
    from . import backtest

    settings = settings_for(edition, create=True)
    replayed = backtest_edition(edition)
    exhibitors = db.session.scalar(select(func.count(Exhibitor.id)).where(Exhibitor.edition_id == replayed.id)) or 0
    k = max(1, min(k, exhibitors))  # a small show: "the top 10" of 6 exhibitors is all of them
    result = dict(backtest.run(replayed.id, weights_of(settings), k=k, settings=settings))
    result.update({"edition_id": replayed.id, "edition_name": replayed.name, "weights": weights_of(settings)})
    settings.backtest = _plain(result)
    settings.backtest_at = utcnow()
    db.session.flush()
    return settings.backtest


def store_backtest_error(edition: Edition, message: str) -> None:
    settings = settings_for(edition, create=True)
    settings.backtest = {"error": message[:2000]}
    settings.backtest_at = utcnow()
    db.session.flush()


def _plain(value):
    """JSON-safe: numpy numbers to floats/ints, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def backtest_chart(backtest: dict | None) -> dict | None:
    """The backtest as a bar chart (static/charts.js): recall@k and precision@k of the engine with the current
    weights, of the category-overlap baseline, and of each signal alone."""
    if not backtest or "model" not in backtest:
        return None
    k = backtest.get("k", 10)
    # Short names: the axis of a phone-wide chart has room for about 16 characters.
    columns = [(str(_l("Recommendations")), backtest["model"]), (str(_l("Baseline")), backtest.get("baseline", {}))]
    for name, figures in (backtest.get("per_signal") or {}).items():
        columns.append((str(_l("Only: %(signal)s", signal=explain.SHORT_SIGNALS.get(name, name))), figures))
    # Horizontal bars: the long names of the columns stay readable on a phone.
    return {"type": "hbar", "categories": [c for c, _f in columns], "unit": "%", "labels": True,
            "series": [{"name": str(_l("Recall@%(k)s", k=k)),
                        "data": [round(100 * float(f.get("recall", 0) or 0), 1) for _c, f in columns]},
                       {"name": str(_l("Precision@%(k)s", k=k)),
                        "data": [round(100 * float(f.get("precision", 0) or 0), 1) for _c, f in columns]}]}
