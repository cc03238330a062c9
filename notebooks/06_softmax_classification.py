# %% [markdown]
# # 6 · Softmax classification of vowels
#
# *How well are vowels recognized for speakers the model never heard?*  MFCC summaries of the formant-synthesized
# `vowels` dataset, softmax regression, speakers held out.

# %%
import os

import numpy as np

from dl4mir.classic import SoftmaxRegression
from dl4mir.metrics import classification_report
from dl4mir.data import get_dataset
from dl4mir.data.splits import default_split
from dl4mir.features.cache import FeatureSpec, load_table

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
vowels = get_dataset("vowels", profile=PROFILE)
table = load_table(vowels, FeatureSpec.parse("stats:sr=16000"))
plan = default_split(vowels)
test = np.isin(table.clip_ids, plan.test)
X, y = table.X.astype(float), table.column("vowel")
mu, sd = X[~test].mean(0), X[~test].std(0) + 1e-9  # training statistics only

# %%
clf = SoftmaxRegression(n_iter=1500).fit((X[~test] - mu) / sd, y[~test])
report = classification_report(y[test], clf.predict((X[test] - mu) / sd))
print(f"held-out speakers {plan.test_groups}: accuracy {report['accuracy']:.3f}")
