# %% [markdown]
# # 2 · Audio features
#
# *Which features separate instruments?*  The MFCC pipeline step by step, then spectral-shape features, MFCCs,
# zero-crossing rate and RMS of the TinySOL-layout `instruments` dataset, ranked by how well each separates the
# instruments (Fisher ratio) and scored by a linear probe under TinySOL's official folds.

# %%
import numpy as np

from dl4mir.data.splits import default_split
from dl4mir.features import spectral as F
from dl4mir.features.cache import stats_feature_names
from dl4mir.lessons import features, notebook_context, run_lesson

ctx = notebook_context("features")
instruments = ctx.dataset(ctx.instruments)
y, sr = instruments.clips[0].load(sr=16000)
steps = F.mfcc_steps(y=y, sr=sr, n_fft=1024, hop_length=256, n_mels=64, n_mfcc=13)
print({k: v.shape for k, v in steps.items()})

# %% [markdown]
# A feature table caches one summary vector per clip (mean and standard deviation of every feature over frames).
# The Fisher ratio of a column is its between-class variance over its within-class variance.

# %%
table = ctx.table(ctx.instruments, "stats:sr=16000")
names = stats_feature_names()
X, inst = table.X.astype(float), table.column("instrument")
ratio = features.fisher_ratio(X, inst)
for i in np.argsort(ratio)[::-1][:5]:
    print(f"{names[i]:20s} Fisher ratio {ratio[i]:.2f}")

# %% [markdown]
# A single feature rarely suffices; a softmax regression on each group of features, cross-validated over the
# official folds, tells which group carries the instrument.

# %%
probe = features.probe_by_group(X, inst, table.clip_ids, default_split(instruments), names)
for group, acc in probe.items():
    print(f"{group:15s} accuracy {acc['mean']:.2f} ± {acc['std']:.2f}")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it.

# %%
record = run_lesson("features", ctx)
ctx.show()
print(record["metrics"]["answer"])
