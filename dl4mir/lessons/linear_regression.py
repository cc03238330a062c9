"""Lesson 4: is spectral centroid linear in f0 (violas)?  Development/test split (≈95/5), 5-fold
cross-validation on the development set, gradient descent on ½·MSE drawn over its loss surface."""
from __future__ import annotations

import numpy as np

from dl4mir.classic import LinearRegression, cross_validate
from dl4mir.data.splits import make_split
from dl4mir.features import spectral as F
from dl4mir.report import plots


def run(ctx) -> dict:
    ds = ctx.dataset(ctx.instruments)
    clips = [c for c in ds.clips if c.labels["instrument"] == "Viola"]
    f0, centroid, ids = [], [], []
    for c in clips:
        y, sr = c.load(sr=16000)
        est = F.yin(y, fmin=100, fmax=1600, sr=sr, frame_length=1024)
        f0.append(float(np.median(est[2:-2])))
        centroid.append(float(np.mean(F.spectral_centroid(y=y, sr=sr, n_fft=1024, hop_length=256))))
        ids.append(c.clip_id)
    x, t = np.array(f0)[:, None], np.array(centroid)
    labelled = np.array([c.labels["f0_hz"] for c in clips])
    f0_err_cents = 1200 * np.abs(np.log2(x[:, 0] / labelled))

    plan = make_split(clips, group_key="pitch", test_fraction=0.05, n_folds=5, seed=ctx.seed)
    res = cross_validate(lambda: LinearRegression(), x, t, ids, plan, task="regression")
    quad = cross_validate(lambda: _Poly2(), x, t, ids, plan, task="regression")
    gd = LinearRegression(solver="gd", learning_rate=0.1, n_iter=300).fit(x, t)
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
        "headline": {"CV R² linear": f"{res['cv']['r2']['mean']:.3f} ± {res['cv']['r2']['std']:.3f}",
                     "CV R² quadratic": f"{quad['cv']['r2']['mean']:.3f} ± {quad['cv']['r2']['std']:.3f}",
                     "test MSE linear (Hz²)": res["test"]["mse"] if res["test"] else None,
                     "GD slope vs closed form": f"{gd.coef_[0]:.4f} vs {cf.coef_[0]:.4f}",
                     "YIN f0 median error (cents)": float(np.median(f0_err_cents))},
        "n_notes": len(clips), "cv_linear": res["cv"], "cv_quadratic": quad["cv"], "test": res["test"],
        "gd": {"coef": gd.coef_, "intercept": gd.intercept_, "iterations": len(gd.loss_curve_)},
        "closed_form": {"coef": cf.coef_, "intercept": cf.intercept_},
        "answer": "Cross-validation gives the spread of the error across folds, not one lucky split; compare the "
                  "linear and quadratic R² to judge linearity.",
    }


class _Poly2(LinearRegression):
    """Quadratic baseline: linear regression on (f0, f0²)."""

    def fit(self, X, y):
        return super().fit(np.c_[X, np.asarray(X) ** 2], y)

    def predict(self, X):
        return super().predict(np.c_[X, np.asarray(X) ** 2])
