# %% [markdown]
# # 3 · Datasets and PCA: guitar effects
#
# *Which features maximally separate two (then three) effects? Does it work better for some pairs?*  The dataset's
# checksums are validated, a leakage-free split holds out a guitar string, and PCA — fit on the development
# strings only — projects |FFT| dB spectra to 2-D.  Every step is a function of `dl4mir.lessons.pca_effects`.

# %%
import numpy as np

from dl4mir.data.splits import default_split
from dl4mir.lessons import notebook_context, pca_effects, run_lesson

ctx = notebook_context("pca-effects")
guitar = ctx.dataset(ctx.guitar)
print(guitar.validate().ok, "— every file matches its checksum")
plan = default_split(guitar)
print(f"test = string {plan.test_groups}, {len(plan.test)} clips")

# %% [markdown]
# One pair, one feature set: clean against tube screamer, |FFT| in dB of the first ½ s at 8 kHz.  `project`
# standardizes, fits PCA on the development strings, projects, and scores the 2-D map (a linear probe tested on
# the held-out string, the silhouette, the variance kept).

# %%
table = ctx.table(ctx.guitar, pca_effects.FEATURES["|FFT| dB (8 kHz, ½ s)"])
effects, ids = table.column("effect"), np.array(table.clip_ids)
pair = np.isin(effects, ["clean", "tube screamer"])
X = table.X[pair].reshape(pair.sum(), -1).astype(float)
proj = pca_effects.project(X, effects[pair], ids[pair], set(plan.test))
print({k: round(v, 3) for k, v in proj["scores"].items()})
print(f"our PCA against scikit-learn's: max component difference "
      f"{pca_effects.sklearn_difference(X[proj['dev']], proj['pca']):.1e}")

# %% [markdown]
# The challenge: every effect pair (and one triple) with every feature set.

# %%
results, _ = pca_effects.score_combinations(ctx, set(plan.test))
for combo, by_features in results.items():
    best = max(by_features, key=lambda f: by_features[f]["probe_accuracy"])
    print(f"{combo:32s} best: {best:24s} probe accuracy {by_features[best]['probe_accuracy']:.2f}")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: the variance explained, the 2-D maps, the probe per pair.

# %%
record = run_lesson("pca-effects", ctx)
ctx.show()
print(record["metrics"]["answer"])
