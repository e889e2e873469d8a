"""The prediction model (issue 11): regularised logistic regression on standardised history features.

Unknown values (no survey answer, no earlier booth to compare with) are imputed with the training mean, so
they contribute nothing. A score's reasons are its largest signed contributions (coefficient × standardised
value), stored as {feature, figures} and turned into sentences in the reader's language by ``reason_text``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from flask_babel import gettext as _
from flask_babel import ngettext
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MIN_PAIRS = 20  # (customer, edition) pairs with a known next edition needed to train
MIN_CLASS = 3  # of each outcome (came back / did not)
REASONS = 3  # reasons kept per score
MIN_CONTRIBUTION = 0.05  # log-odds: below this a feature is no reason
C = 0.5  # inverse regularisation strength


class TooLittleHistory(ValueError):
    """Not enough past editions (or no customer who did not come back) to learn from."""


def _matrix(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[np.nan if row.get(name) is None else float(row[name]) for name in names] for row in rows],
                    dtype=float).reshape(len(rows), len(names))


class Model:
    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self.pipeline = None

    def fit(self, rows: list[dict], labels: list[int]) -> Model:
        positives = sum(labels)
        if len(rows) < MIN_PAIRS or positives < MIN_CLASS or len(labels) - positives < MIN_CLASS:
            raise TooLittleHistory(len(rows))
        self.pipeline = make_pipeline(SimpleImputer(strategy="mean", keep_empty_features=True), StandardScaler(),
                                      LogisticRegression(C=C, max_iter=1000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.pipeline.fit(_matrix(rows, self.names), np.array(labels, dtype=int))
        return self

    def _standardised(self, rows: list[dict]) -> np.ndarray:
        imputer, scaler, _lr = self.pipeline.steps[0][1], self.pipeline.steps[1][1], self.pipeline.steps[2][1]
        return scaler.transform(imputer.transform(_matrix(rows, self.names)))

    def predict(self, rows: list[dict]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        return self.pipeline.predict_proba(_matrix(rows, self.names))[:, 1]

    @property
    def coefficients(self) -> dict[str, float]:
        return dict(zip(self.names, (float(c) for c in self.pipeline.steps[2][1].coef_[0])))

    def contributions(self, rows: list[dict]) -> np.ndarray:
        if not rows:
            return np.zeros((0, len(self.names)))
        return self._standardised(rows) * self.pipeline.steps[2][1].coef_[0]

    def reasons(self, row: dict, contributions) -> list[dict]:
        """The strongest signed contributions of one row, strongest first: [{feature, weight, figures}]."""
        order = sorted(range(len(self.names)), key=lambda j: -abs(contributions[j]))
        kept = []
        for j in order:
            weight = float(contributions[j])
            name = self.names[j]
            if abs(weight) < MIN_CONTRIBUTION or row.get(name) is None:
                continue
            kept.append({"feature": name, "weight": round(weight, 3), "figures": _figures(name, row)})
            if len(kept) == REASONS:
                break
        return kept


def _figures(name: str, row: dict) -> dict:
    keys = {"last_share": ("last_count", "window"), "leads_vs_median": ("leads", "median_leads")}.get(name, ())
    out = {key: row.get(key) for key in keys}
    value = row.get(name)
    out["value"] = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
    return out


def _pct(value: float) -> int:
    return int(round(abs(value) * 100))


def reason_text(reason: dict, kind: str) -> str:
    """One stored reason as a sentence with its figures, in the current language."""
    name, figures = reason.get("feature"), reason.get("figures") or {}
    value = figures.get("value")
    if value is None:
        return ""
    n = int(round(value)) if isinstance(value, (int, float)) else 0
    exhibitor = kind == "exhibitor"
    if name == "last_share":
        count, window = int(figures.get("last_count") or 0), int(figures.get("window") or 0)
        if exhibitor:
            return _("Took part in %(n)s of the last %(k)s editions", n=count, k=window)
        return _("Registered for %(n)s of the last %(k)s editions", n=count, k=window)
    if name == "editions":
        if exhibitor:
            return ngettext("Exhibited at %(num)s edition of the show", "Exhibited at %(num)s editions of the show", n)
        return ngettext("Registered for %(num)s edition of the show", "Registered for %(num)s editions of the show", n)
    if name == "attended_editions":
        return ngettext("Came to %(num)s edition", "Came to %(num)s editions", n)
    if name == "recency":
        if n == 0:
            return _("Took part in this edition") if exhibitor else _("Registered for this edition")
        return ngettext("Last took part %(num)s edition ago", "Last took part %(num)s editions ago", n)
    if name == "area_m2":
        return _("Booked %(area)s m²", area=f"{value:g}")
    if name == "area_trend":
        if abs(value) < 0.005:
            return _("Same booth area as the edition before")
        return (_("Booth area grew by %(pct)s%%", pct=_pct(value)) if value > 0
                else _("Booth area shrank by %(pct)s%%", pct=_pct(value)))
    if name == "price_trend":
        if abs(value) < 0.005:
            return _("Same price per m² as the edition before")
        return (_("Price per m² rose by %(pct)s%%", pct=_pct(value)) if value > 0
                else _("Price per m² fell by %(pct)s%%", pct=_pct(value)))
    if name == "leads_vs_median":
        if abs(value) < 0.005:
            return _("Received as many leads as the median exhibitor")
        return (_("Received %(pct)s%% more leads than the median exhibitor", pct=_pct(value)) if value > 0
                else _("Received %(pct)s%% fewer leads than the median exhibitor", pct=_pct(value)))
    if name == "hot_share":
        return _("%(pct)s%% of its leads were hot", pct=_pct(value))
    if name == "meetings":
        if exhibitor:
            return ngettext("Had %(num)s meeting with visitors", "Had %(num)s meetings with visitors", n)
        return ngettext("Had %(num)s meeting with exhibitors", "Had %(num)s meetings with exhibitors", n)
    if name == "satisfaction":
        return _("Satisfaction score %(score)s of 10", score=f"{value:.1f}")
    if name == "nps":
        return _("Would recommend the show: %(score)s of 10", score=f"{value:.1f}")
    if name == "tickets":
        return _("Raised no ticket") if n == 0 else ngettext("Raised %(num)s ticket", "Raised %(num)s tickets", n)
    if name == "follow_up_rate":
        return _("Followed up %(pct)s%% of its leads", pct=_pct(value))
    if name == "checked_in":
        return _("Came in at the last edition they registered for") if n else _("Registered but did not come in")
    if name == "leads_given":
        return ngettext("Scanned by %(num)s exhibitor", "Scanned by %(num)s exhibitors", n)
    if name == "hot_leads_given":
        return ngettext("A hot lead for %(num)s exhibitor", "A hot lead for %(num)s exhibitors", n)
    if name == "professional":
        return _("Professional visitor") if n else _("Not a professional visitor")
    return ""
