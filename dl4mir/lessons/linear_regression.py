"""Lesson 4: is spectral centroid linear in f0 (violas)?  Development/test split (≈95/5), 5-fold
cross-validation on the development set, gradient descent on ½·MSE drawn over its loss surface."""
from __future__ import annotations

import numpy as np

from dl4mir.classic import LinearRegression, cross_validate
from dl4mir.data.splits import make_split
from dl4mir.features import spectral as F
from dl4mir.report import plots


HEADLINE = {"cv_r2_linear": "cross-validated R², linear (mean over 5 folds)",
            "cv_r2_quadratic": "cross-validated R², quadratic", "test_mse_linear": "test MSE, linear (Hz²)",
            "gd_slope": "slope by gradient descent (Hz per Hz of f0)", "closed_form_slope": "slope in closed form",
            "yin_median_error_cents": "YIN f0 median error against the labels (cents)"}


def viola_notes(ds) -> dict:
    """Per viola note: f0 by YIN (median over the note), mean spectral centroid, the labelled f0, the clip id."""
    clips = [c for c in ds.clips if c.labels["instrument"] == "Viola"]
    f0, centroid = [], []
    for c in clips:
        y, sr = c.load(sr=16000)
        est = F.yin(y, fmin=100, fmax=1600, sr=sr, frame_length=1024)
        f0.append(float(np.median(est[2:-2])))
        centroid.append(float(np.mean(F.spectral_centroid(y=y, sr=sr, n_fft=1024, hop_length=256))))
    return {"f0_hz": np.array(f0), "centroid_hz": np.array(centroid), "clips": clips,
            "labelled_f0_hz": np.array([c.labels["f0_hz"] for c in clips])}


def fit_models(notes: dict, *, seed: int = 0) -> dict:
    """Linear and quadratic fits cross-validated on a development/test split (≈95/5, 5 folds, grouped by pitch),
    and gradient descent on ½·MSE of the same linear model."""
    x, t, ids = notes["f0_hz"][:, None], notes["centroid_hz"], [c.clip_id for c in notes["clips"]]
    plan = make_split(notes["clips"], group_key="pitch", test_fraction=0.05, n_folds=5, seed=seed)
    return {"linear": cross_validate(lambda: LinearRegression(), x, t, ids, plan, task="regression"),
            "quadratic": cross_validate(lambda: _Poly2(), x, t, ids, plan, task="regression"),
            "gd": LinearRegression(solver="gd", learning_rate=0.1, n_iter=300).fit(x, t)}


def run(ctx) -> dict:
    notes = viola_notes(ctx.dataset(ctx.instruments))
    x, t = notes["f0_hz"][:, None], notes["centroid_hz"]
    f0_err_cents = 1200 * np.abs(np.log2(x[:, 0] / notes["labelled_f0_hz"]))
    fits = fit_models(notes, seed=ctx.seed)
    res, quad, gd = fits["linear"], fits["quadratic"], fits["gd"]
    cf = res["estimator"]

    # the loss surface in the standardized units gradient descent works in
    z = (x[:, 0] - x.mean()) / x.std()
    bs = np.linspace(gd.path_[:, 0].min() - 200, gd.path_[:, 0].max() + 200, 80)
    ws = np.linspace(min(gd.path_[:, 1].min(), 0) - 200, gd.path_[:, 1].max() + 200, 80)
    loss = 0.5 * np.mean((z[None, None, :] * ws[None, :, None] + bs[:, None, None] - t[None, None, :]) ** 2, axis=-1)
    plots.descent_contour(ctx.figure("descent", "Gradient descent on ½·MSE over its loss surface"), loss, bs, ws,
                          gd.path_, title="Gradient descent path (viola: centroid ~ f0)")
    plots.lines(ctx.figure("loss_curve", "½·MSE per iteration"), {"½·MSE": (np.arange(len(gd.loss_curve_)), gd.loss_curve_)},
                title="Loss curve", xlabel="iteration", ylabel="½·MSE (Hz²)", logy=True)
    grid = np.linspace(x.min(), x.max(), 100)[:, None]
    plots.points_and_curves(ctx.figure("fit", "Spectral centroid against f0 with linear and quadratic fits"),
                            x[:, 0], t, {"linear fit": (grid[:, 0], cf.predict(grid)),
                                         "quadratic fit": (grid[:, 0], quad["estimator"].predict(grid))},
                            title="Viola notes", xlabel="f0 by YIN (Hz)", ylabel="mean spectral centroid (Hz)")
    return {
        "headline": {"cv_r2_linear": res["cv"]["r2"]["mean"], "cv_r2_quadratic": quad["cv"]["r2"]["mean"],
                     "test_mse_linear": res["test"]["mse"] if res["test"] else None,
                     "gd_slope": gd.coef_[0], "closed_form_slope": cf.coef_[0],
                     "yin_median_error_cents": float(np.median(f0_err_cents))},
        "n_notes": len(notes["clips"]), "cv_linear": res["cv"], "cv_quadratic": quad["cv"], "test": res["test"],
        "gd": {"coef": gd.coef_, "intercept": gd.intercept_, "iterations": len(gd.loss_curve_)},
        "closed_form": {"coef": cf.coef_, "intercept": cf.intercept_},
        "answer": answer(res["cv"]["r2"], quad["cv"]["r2"]),
    }


def answer(linear: dict, quadratic: dict) -> str:
    """Linear or not, from the cross-validated R² of both fits and their spread across folds."""
    gain = quadratic["mean"] - linear["mean"]
    spread = max(linear["std"], quadratic["std"])
    verdict = (f"mostly linear: the quadratic term adds {gain:+.2f} R², within the spread across folds (±{spread:.2f})"
               if gain <= spread else
               f"not quite linear: the quadratic fit gains {gain:+.2f} R², more than the spread across folds "
               f"(±{spread:.2f})")
    return (f"Centroid against f0 is {verdict}; linear R² {linear['mean']:.2f} ± {linear['std']:.2f}. "
            "Cross-validation gives that spread across folds, not one lucky split.")


class _Poly2(LinearRegression):
    """Quadratic baseline: linear regression on (f0, f0²)."""

    def fit(self, X, y):
        return super().fit(np.c_[X, np.asarray(X) ** 2], y)

    def predict(self, X):
        return super().predict(np.c_[X, np.asarray(X) ** 2])
