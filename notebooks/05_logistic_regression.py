# %% [markdown]
# # 5 · Logistic regression, binary cross-entropy and metrics
#
# *Violin or bass tuba from two features: which two, and why?*  The two features are chosen on the development
# folds by Fisher ratio; logistic regression by gradient descent on BCE; a confusion matrix, the four rates, ROC
# and AUC on TinySOL's held-out official fold.

# %%
import numpy as np

from dl4mir.lessons import logistic_regression, notebook_context, run_lesson

ctx = notebook_context("logistic-regression")
d = logistic_regression.pair_data(ctx)
dev = ~np.isin(d["ids"], d["plan"].test)
best2, ratios, candidates = logistic_regression.choose_features(d["X"][dev], d["y"][dev], d["names"])
print("chosen on the development folds:", [d["names"][i] for i in best2])
print(f"{dev.sum()} development notes, {(~dev).sum()} test notes (fold {d['plan'].test_groups})")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: the decision boundary, BCE per iteration, the confusion matrix, ROC.

# %%
record = run_lesson("logistic-regression", ctx)
ctx.show()
print(record["metrics"]["answer"])
