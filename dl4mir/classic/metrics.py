"""Classification metrics as the course defines them, checked against scikit-learn in the tests.

Conventions: rows of a confusion matrix are the true class, columns the prediction; per-class rates are
one-vs-rest; "macro" averages give every class the same weight; an undefined ratio (0/0) is reported as 0.
"""
from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, *, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """``(matrix, labels)`` with ``matrix[i, j]`` = count of true ``labels[i]`` predicted as ``labels[j]``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if t in index and p in index:
            cm[index[t], index[p]] += 1
    return cm, labels


def _div(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def rates(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class one-vs-rest TPR (recall), TNR, FPR, FNR and precision from a confusion matrix."""
    tp = np.diag(cm)
    fn = cm.sum(axis=1) - tp
    fp = cm.sum(axis=0) - tp
    tn = cm.sum() - tp - fn - fp
    return {"tpr": _div(tp, tp + fn), "tnr": _div(tn, tn + fp), "fpr": _div(fp, fp + tn),
            "fnr": _div(fn, fn + tp), "precision": _div(tp, tp + fp)}


def classification_report(y_true, y_pred, *, labels=None) -> dict:
    """Everything the lessons report: accuracy, balanced accuracy, confusion matrix, per-class and macro
    precision/recall/F1 and TPR/TNR/FPR/FNR (for two classes also as scalars for ``labels[1]``)."""
    cm, labels = confusion_matrix(y_true, y_pred, labels=labels)
    r = rates(cm)
    f1 = _div(2 * r["precision"] * r["tpr"], r["precision"] + r["tpr"])
    present = cm.sum(axis=1) > 0
    out = {
        "n": int(cm.sum()),
        "labels": [str(v) for v in labels],
        "confusion_matrix": cm.tolist(),
        "accuracy": float(np.trace(cm) / max(cm.sum(), 1)),
        "balanced_accuracy": float(r["tpr"][present].mean()) if present.any() else 0.0,
        "per_class": {str(lab): {"precision": float(r["precision"][i]), "recall": float(r["tpr"][i]),
                                 "f1": float(f1[i]), "support": int(cm[i].sum())} for i, lab in enumerate(labels)},
        "macro": {"precision": float(r["precision"].mean()), "recall": float(r["tpr"].mean()), "f1": float(f1.mean())},
    }
    if len(labels) == 2:  # the positive class is labels[1]
        out.update({k: float(r[k][1]) for k in ("tpr", "tnr", "fpr", "fnr")})
    return out


def roc_curve(y_true, scores, *, positive=1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)`` sweeping the threshold down through every distinct score."""
    y = np.asarray(y_true) == positive
    s = np.asarray(scores, dtype=float)
    if y.all() or not y.any():
        raise ValueError("ROC needs both positive and negative examples")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / y.sum()]
    fpr = np.r_[0.0, fps / (~y).sum()]
    return fpr, tpr, np.r_[np.inf, s[distinct]]


def auc(x, y) -> float:
    """Area under a curve by the trapezoid rule (``x`` increasing)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def silhouette(X, labels) -> float:
    """Mean silhouette coefficient (scikit-learn's), the lesson's measure of how well groups separate."""
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(np.asarray(X), np.asarray(labels)))
