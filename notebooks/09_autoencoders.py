# %% [markdown]
# # 9 · Autoencoders: compression, denoising, anomaly detection
#
# *Does a nonlinear code beat PCA with as many numbers on a string it never heard?*  A dense autoencoder on
# log-magnitude spectrograms against PCA, scored by log-spectral distance (dB); its reconstructions heard through
# Griffin-Lim; a denoising autoencoder; reconstruction error as an anomaly score.

# %%
import numpy as np

from dl4mir.features.logmag import SPEC
from dl4mir.generate import latent
from dl4mir.lessons import _generative, notebook_context, run_lesson
from dl4mir.metrics import log_spectral_distance

ctx = notebook_context("autoencoders")
data = _generative.spectrograms(ctx)
train, test = data.X[data.rows("train")].numpy(), data.X[data.rows("test")].numpy()
print("spectrogram", train.shape[1:], "=", SPEC.n_freq, "bins ×", SPEC.n_frames, f"frames ({SPEC.duration_s:.3f} s)")

# %% [markdown]
# The linear bar: PCA with `d` components is the best linear `d`-number code.  An autoencoder is worth training
# only if it beats these figures on the held-out string.

# %%
raw = latent.to_raw(test, data.norm)
for d, rec in _generative.pca_reconstructions(train, test, (8, 16)).items():
    print(f"PCA d={d}: held-out LSD {log_spectral_distance(raw, latent.to_raw(rec, data.norm)).mean():.2f} dB")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: the autoencoders against PCA, reconstructions to listen to, denoising
# and anomaly detection.

# %%
record = run_lesson("autoencoders", ctx)
ctx.show()
print(record["metrics"]["answer"])
