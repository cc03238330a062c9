# %% [markdown]
# # 4 · Cross-validation and linear regression
#
# *Is the relationship between f0 and spectral centroid linear? Why cross-validate?*  Viola notes of the
# `instruments` dataset: YIN pitch against mean spectral centroid, closed-form least squares and gradient
# descent, 5-fold cross-validation grouped by pitch.

# %%
import numpy as np

from dl4mir.lessons import linear_regression, notebook_context, run_lesson

ctx = notebook_context("linear-regression")
notes = linear_regression.viola_notes(ctx.dataset(ctx.instruments))
cents = 1200 * np.abs(np.log2(notes["f0_hz"] / notes["labelled_f0_hz"]))
print(f"{len(notes['clips'])} viola notes; YIN against the labelled pitch: median error {np.median(cents):.1f} cents")

# %% [markdown]
# A linear and a quadratic model, each scored on folds it was not fit on; gradient descent on ½·MSE must land on
# the closed-form solution.

# %%
fits = linear_regression.fit_models(notes, seed=ctx.seed)
for name in ("linear", "quadratic"):
    r2 = fits[name]["cv"]["r2"]
    print(f"{name:9s} cross-validated R² {r2['mean']:.3f} ± {r2['std']:.3f}")
print(f"after {len(fits['gd'].loss_curve_)} iterations ½·MSE went {fits['gd'].loss_curve_[0]:.0f} → "
      f"{fits['gd'].loss_curve_[-1]:.0f} Hz²")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: the descent path on the loss surface, the loss curve, the fits.

# %%
record = run_lesson("linear-regression", ctx)
ctx.show()
print(record["metrics"]["answer"])
