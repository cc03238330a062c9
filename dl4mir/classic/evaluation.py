"""Cross-validation done as the course teaches it: folds from a leakage-free :class:`~dl4mir.data.splits.SplitPlan`
(no guitar string, speaker or take in two folds), mean ± std across folds, then one fit on the whole development
set scored once on the held-out test set."""
from __future__ import annotations

from typing import Callable

import numpy as np

from dl4mir.metrics import classification_report, regression_report


def _rows(ids, wanted):
    index = {c: i for i, c in enumerate(ids)}
    return np.array([index[c] for c in wanted if c in index], dtype=int)


def cross_validate(make_estimator: Callable[[], object], X, y, ids, plan, *, task: str = "classification") -> dict:
    """Fit ``make_estimator()`` on each fold's train rows, score on its validation rows, then refit on all
    development rows and score the test rows.  ``ids`` are the clip ids of the rows of ``X``.

    Returns ``{"folds": [...], "cv": {metric: {"mean", "std"}}, "test": report, "estimator": fitted}``.
    """
    X, y = np.asarray(X), np.asarray(y)
    score = classification_report if task == "classification" else regression_report
    keys = ("accuracy", "balanced_accuracy") if task == "classification" else ("mse", "r2")
    folds = []
    for fold in plan.folds:
        tr, va = _rows(ids, fold["train"]), _rows(ids, fold["val"])
        if len(va) == 0:
            continue
        est = make_estimator().fit(X[tr], y[tr])
        folds.append(score(y[va], est.predict(X[va])))
    cv = {k: {"mean": float(np.mean([f[k] for f in folds])), "std": float(np.std([f[k] for f in folds]))}
          for k in keys} if folds else {}
    dev = _rows(ids, plan.development) if plan.folds else np.setdiff1d(np.arange(len(y)), _rows(ids, plan.test))
    est = make_estimator().fit(X[dev], y[dev])
    test_rows = _rows(ids, plan.test)
    test = score(y[test_rows], est.predict(X[test_rows])) if len(test_rows) else None
    return {"folds": folds, "cv": cv, "test": test, "estimator": est}
