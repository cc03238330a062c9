# %% [markdown]
# # 6a · Raw-audio standardization and data augmentation
#
# *What do the augmentations do to a sound?*  One syllable of the `vowels` dataset through each augmentation
# the vowel classifier trains with (noise, noise bursts, pitch shift, a room, a low-pass filter): listen, look,
# and measure that each does what its name says.

# %%
import numpy as np

from dl4mir.audio import standardize
from dl4mir.lessons import augmentation, notebook_context, run_lesson

ctx = notebook_context("augmentation")
clip = next(c for c in ctx.dataset(ctx.vowels).clips if c.labels["vowel"] == "a")
y, sr = clip.load(sr=16000)
versions = augmentation.augmented_versions(y.astype(np.float64), sr, np.random.default_rng(ctx.seed))
print(list(versions))

# %% [markdown]
# Measured in physical units: the SNR the noise really has, the pitch shift YIN hears, the loss in a band above
# the low-pass cutoff.

# %%
for name, value in augmentation.measure(versions, sr, clip.labels["vowel_onset_s"]).items():
    print(f"{name:24s} {value:7.2f}")
z = standardize(y)
print(f"standardized: mean {z.mean():.1e}, standard deviation {z.std():.3f}")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: the spectrograms and every version to listen to.

# %%
record = run_lesson("augmentation", ctx)
ctx.show()
print(record["metrics"]["answer"])
