# %% [markdown]
# # 6 · Softmax classification of vowels
#
# *How well are vowels recognized for speakers the model never heard?*  The vowel segment of every syllable of
# the formant-synthesized `vowels` dataset, softmax regression on raw audio (the course's baseline) and on MFCC
# statistics, speakers held out; then the same with 10 dB of noise, trained with and without augmentation.

# %%
import numpy as np

from dl4mir.data.splits import default_split
from dl4mir.lessons import notebook_context, run_lesson, softmax_vowels

ctx = notebook_context("softmax-vowels")
vowels = ctx.dataset(ctx.vowels)
plan = default_split(vowels)
data = softmax_vowels.vowel_segments(vowels)
print(f"{len(data['segments'])} segments of {sorted(set(data['vowels']))}; held-out speakers {plan.test_groups}")

# %%
out = softmax_vowels.compare_models(data, plan, np.random.default_rng(ctx.seed))
for name, r in out["results"].items():
    noisy = f", with 10 dB noise {r['test_noisy_10dB']:.2f}" if "test_noisy_10dB" in r else ""
    print(f"{name:28s} held-out accuracy {r['test_clean']:.2f}{noisy}")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: confusion matrix, loss curve, accuracy per model.

# %%
record = run_lesson("softmax-vowels", ctx)
ctx.show()
print(record["metrics"]["answer"])
