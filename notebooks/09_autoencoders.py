# %% [markdown]
# # 9 · Autoencoders
#
# *Does a nonlinear code beat PCA with as many numbers on a string it never heard?*  A dense autoencoder on
# log-magnitude spectrograms against PCA, scored by log-spectral distance (dB); then its reconstruction, heard
# through Griffin-Lim.

# %%
import os
import tempfile

import numpy as np
import torch

from dl4mir.classic import PCA
from dl4mir.metrics import log_spectral_distance
from dl4mir.generate import latent
from dl4mir.features.logmag import SPEC
from dl4mir.models import build_model
from dl4mir.train.data import prepare
from dl4mir.train.loop import TrainConfig, fit

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
EPOCHS = 1 if PROFILE == "quick" else 3
data = prepare("effect", input_kind="logmag", profile=PROFILE)
train, test = data.X[data.rows("train")].numpy(), data.X[data.rows("test")].numpy()
print("spectrogram", train.shape[1:], "=", SPEC.n_freq, "bins ×", SPEC.n_frames, f"frames ({SPEC.duration_s:.3f} s)")

# %%
d = 8
pca = PCA(n_components=d, standardize=False).fit(train.reshape(len(train), -1))
pca_rec = pca.inverse_transform(pca.transform(test.reshape(len(test), -1))).reshape(test.shape)
ae = build_model("ae", latent_dim=d, **data.input_shape())
with tempfile.TemporaryDirectory() as out:
    fit(ae, data, TrainConfig(epochs=EPOCHS, progress=False), out)
ae_rec = latent.reconstruct(ae, test)
raw = latent.to_raw(test, data.norm)
for name, rec in (("PCA", pca_rec), ("autoencoder", ae_rec)):
    print(f"{name} d={d}: LSD {log_spectral_distance(raw, latent.to_raw(rec, data.norm)).mean():.2f} dB")

# %%
audio = SPEC.to_audio(torch.from_numpy(latent.to_raw(ae_rec[:1], data.norm)), n_iter=32)
print("reconstruction as audio:", audio.shape, "samples, peak", float(np.abs(audio.numpy()).max()))
