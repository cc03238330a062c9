# %% [markdown]
# # 5 · Logistic regression, binary cross-entropy and metrics
#
# *Violin or bass tuba from two features?*  Logistic regression by gradient descent on BCE, a confusion matrix,
# the four rates, ROC and AUC, scored on TinySOL's held-out official fold.

# %%
import os

import numpy as np

from dl4mir.classic import LogisticRegression
from dl4mir.metrics import auc, classification_report, roc_curve
from dl4mir.data import get_dataset
from dl4mir.features.cache import FeatureSpec, load_table, stats_feature_names

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
instruments = get_dataset("instruments", profile=PROFILE)
table = load_table(instruments, FeatureSpec.parse("stats:sr=16000"))
names = stats_feature_names()
inst = table.column("instrument")
m = np.isin(inst, ["Violin", "Bass Tuba"])
X = table.X[m][:, [names.index("centroid_mean"), names.index("rolloff_mean")]].astype(float)
y = (inst[m] == "Violin").astype(int)
official = {c.clip_id: instruments.reader.official_split(c) for c in instruments.clips}
fold = np.array([official[i] for i in np.array(table.clip_ids)[m]])

# %%
test = fold == "fold4"
clf = LogisticRegression(learning_rate=0.5, n_iter=2000).fit(X[~test], y[~test])
print(classification_report(y[test], clf.predict(X[test]))["accuracy"], "accuracy on the held-out fold")
fpr, tpr, _ = roc_curve(y[test], clf.predict_proba(X[test])[:, 1])
print(f"AUC {auc(fpr, tpr):.3f}")
