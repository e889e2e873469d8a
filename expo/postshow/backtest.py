"""Training, scoring and the model's own backtest (issue 11), and the stored prediction runs.

``predict(history, index, kind)`` trains on every (customer, M) pair with M + 1 <= index whose next edition has
begun, and scores the customers of edition ``index``. ``backtest(history, kind)`` does that for each edition N
with a known N + 1 and enough history before it, and compares the scores with who came to N + 1: AUC, the
recency-only baseline's AUC, Brier score and reliability bins. ``compute(edition, kind)`` stores both as a run.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np
from flask_babel import lazy_gettext as _l
from sklearn.metrics import brier_score_loss, roc_auc_score
from sqlalchemy import delete, insert, select

from ..core.models import Edition
from ..core.scoping import Scope
from ..extensions import db
from .model import Model, TooLittleHistory
from .models_predictions import PredictionRun, PredictionScore
from .predictions import FEATURES, History, is_complete, show_editions

BINS = 10
MIN_BACKTEST = 10  # scored customers of an edition needed to count it in the backtest
TOO_LITTLE = _l("Too little history to learn from: the model needs earlier editions of the show with customers "
                "who came back and customers who did not.")


@dataclass
class Prediction:
    subject_ids: list[int]
    rows: list[dict]
    probabilities: np.ndarray
    model: Model
    trained_on: int


def training_pairs(history: History, index: int, kind: str, today: date) -> tuple[list[dict], list[int]]:
    """(features at M, took part in M + 1) for every M + 1 <= index that has begun."""
    rows, labels = [], []
    for m in range(index):
        if not is_complete(history.editions[m + 1], today):
            continue
        came = history.participants(m + 1, kind)
        for subject, row in history.features(m, kind).items():
            rows.append(row)
            labels.append(1 if subject in came else 0)
    return rows, labels


def predict(history: History, index: int, kind: str, today: date) -> Prediction:
    """Scores of everyone seen up to edition ``index``; raises TooLittleHistory."""
    rows, labels = training_pairs(history, index, kind, today)
    model = Model(FEATURES[kind]).fit(rows, labels)
    features = history.features(index, kind)
    subjects = sorted(features)
    scored = [features[s] for s in subjects]
    return Prediction(subjects, scored, model.predict(scored), model, len(rows))


def _auc(labels, scores) -> float | None:
    if len(set(labels)) < 2:
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def reliability(labels, probabilities, bins: int = BINS) -> list[dict]:
    """Predicted against observed rate per probability bin (the bins with customers in them)."""
    labels, probabilities = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = (probabilities >= low) & ((probabilities < high) if b < bins - 1 else (probabilities <= high))
        n = int(inside.sum())
        if n:
            out.append({"low": low, "high": high, "n": n, "predicted": round(float(probabilities[inside].mean()), 4),
                        "observed": round(float(labels[inside].mean()), 4)})
    return out


def backtest(history: History, kind: str, today: date) -> dict:
    """Train on editions before N, score N, compare with N + 1, for every N of the history with enough before it
    and a known N + 1."""
    last = len(history.editions) - 1
    per_edition, labels_all, probs_all, recency_all = [], [], [], []
    for n in range(1, last):
        if not is_complete(history.editions[n + 1], today):
            continue
        try:
            prediction = predict(history, n, kind, today)
        except TooLittleHistory:
            continue
        if len(prediction.subject_ids) < MIN_BACKTEST:
            continue
        came = history.participants(n + 1, kind)
        labels = [1 if s in came else 0 for s in prediction.subject_ids]
        recency = [-float(row["recency"]) for row in prediction.rows]
        per_edition.append({"edition_id": history.editions[n].id, "edition": history.editions[n].name,
                            "n": len(labels), "came": int(sum(labels)),
                            "auc": _auc(labels, prediction.probabilities), "baseline_auc": _auc(labels, recency)})
        labels_all += labels
        probs_all += [float(p) for p in prediction.probabilities]
        recency_all += recency
    if not labels_all:
        return {"editions": [], "auc": None, "baseline_auc": None, "brier": None, "bins": [], "n": 0}
    return {"editions": per_edition, "n": len(labels_all), "came": int(sum(labels_all)),
            "auc": _auc(labels_all, probs_all), "baseline_auc": _auc(labels_all, recency_all),
            "brier": round(float(brier_score_loss(labels_all, probs_all)), 4),
            "bins": reliability(labels_all, probs_all)}


# --- stored runs ----------------------------------------------------------------------------------------

def _today(now: datetime | None) -> date:
    return (now or datetime.now(timezone.utc)).date()


def queue_run(edition: Edition, kind: str, *, user_id: int | None = None) -> PredictionRun:
    run = PredictionRun(organizer_id=edition.organizer_id, edition_id=edition.id, kind=kind, status="queued",
                        message="", metrics={}, created_by_id=user_id)
    db.session.add(run)
    db.session.flush()
    return run


def compute(edition: Edition, kind: str, *, run: PredictionRun | None = None, now: datetime | None = None,
            user_id: int | None = None) -> PredictionRun:
    """Train, score the edition's customers, backtest, and store it all as a run (flushes; the caller commits)."""
    scope = Scope(edition.organizer_id)
    run = run or queue_run(edition, kind, user_id=user_id)
    today = _today(now)
    editions = show_editions(scope, edition)
    index = next(i for i, e in enumerate(editions) if e.id == edition.id)
    history = History(scope, editions[: index + 1])  # reads nothing after the edition
    try:
        prediction = predict(history, index, kind, today)
    except TooLittleHistory:
        run.status, run.message = "too_little_history", str(TOO_LITTLE)
        run.metrics = {"backtest": backtest(history, kind, today)}
        run.finished_at = now or datetime.now(timezone.utc)
        db.session.flush()
        return run
    contributions = prediction.model.contributions(prediction.rows)
    rows = [{"organizer_id": edition.organizer_id, "run_id": run.id, "subject_id": subject,
             "probability": round(min(max(float(p), 0.0), 1.0), 6),
             "reasons": prediction.model.reasons(row, contributions[i]), "features": _jsonable(row)}
            for i, (subject, row, p) in enumerate(zip(prediction.subject_ids, prediction.rows,
                                                      prediction.probabilities))]
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(PredictionScore), rows[start:start + 2000])
    older = select(PredictionRun.id).where(PredictionRun.edition_id == edition.id, PredictionRun.kind == kind,
                                           PredictionRun.id != run.id)
    db.session.execute(delete(PredictionScore).where(PredictionScore.run_id.in_(older)))  # only the latest is read
    run.status, run.trained_on, run.scored = "done", prediction.trained_on, len(rows)
    run.metrics = {"backtest": backtest(history, kind, today),
                   "coefficients": {k: round(v, 4) for k, v in prediction.model.coefficients.items()}}
    run.finished_at = now or datetime.now(timezone.utc)
    db.session.flush()
    return run


def fail(run: PredictionRun, reason: str) -> None:
    run.status, run.message = "failed", reason[:2000]
    run.finished_at = datetime.now(timezone.utc)
    db.session.execute(delete(PredictionScore).where(PredictionScore.run_id == run.id))
    db.session.flush()


def _jsonable(row: dict) -> dict:
    return {k: (None if v is None else (round(float(v), 4) if isinstance(v, float) else v)) for k, v in row.items()}
