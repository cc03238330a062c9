# %% [markdown]
# # 4 · Cross-validation and linear regression
#
# *Is the relationship between f0 and spectral centroid linear?*  Viola notes of the `instruments` dataset: YIN
# pitch against mean spectral centroid, closed-form least squares and gradient descent, 5-fold cross-validation.

# %%
import os

import numpy as np

from dl4mir.classic import LinearRegression, cross_validate
from dl4mir.data import get_dataset
from dl4mir.data.splits import make_split
from dl4mir.features import spectral as F

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
clips = [c for c in get_dataset("instruments", profile=PROFILE).clips if c.labels["instrument"] == "Viola"]
f0, centroid = [], []
for c in clips:
    y, sr = c.load(sr=16000)
    f0.append(np.median(F.yin(y, fmin=100, fmax=1600, sr=sr, frame_length=1024)))
    centroid.append(F.spectral_centroid(y=y, sr=sr, n_fft=1024, hop_length=256).mean())
x, t = np.array(f0)[:, None], np.array(centroid)

# %%
plan = make_split(clips, group_key="pitch", test_fraction=0.05, n_folds=5, seed=0)
res = cross_validate(lambda: LinearRegression(), x, t, [c.clip_id for c in clips], plan, task="regression")
print(f"cross-validated R²: {res['cv']['r2']['mean']:.3f} ± {res['cv']['r2']['std']:.3f}")
gd = LinearRegression(solver="gd", learning_rate=0.1, n_iter=300).fit(x, t)
print(f"slope: gradient descent {gd.coef_[0]:.3f}, closed form {res['estimator'].coef_[0]:.3f}")
