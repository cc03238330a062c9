# %% [markdown]
# # 10 · Variational autoencoders and GANs
#
# *Do generated notes sound like the effect asked for?*  A conditional VAE samples notes for a chosen effect;
# interpolation walks between two real notes in its latent space.  (`dl4mir run` also trains a GAN and judges
# both with a classifier; see the report.)

# %%
import os
import tempfile

import numpy as np
import torch

from dl4mir.metrics import active_units, diversity, kl_per_dimension
from dl4mir.generate import latent
from dl4mir.features.logmag import SPEC
from dl4mir.models import build_model
from dl4mir.train.data import prepare
from dl4mir.train.loop import TrainConfig, fit

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
EPOCHS = 1 if PROFILE == "quick" else 3
data = prepare("effect", input_kind="logmag", profile=PROFILE)
cvae = build_model("cvae", arch="dense", latent_dim=16, n_classes=len(data.classes), **data.input_shape())
with tempfile.TemporaryDirectory() as out:
    fit(cvae, data, TrainConfig(epochs=EPOCHS, progress=False), out)

# %%
test = data.rows("test")
mu, logvar = latent.posterior(cvae, data.X[test].numpy(), data.y[test].numpy())
print(f"active units {active_units(mu)} of 16; KL per dimension (nats): {kl_per_dimension(mu, logvar).round(2)}")
chorus = data.classes.index("chorus")
samples = latent.sample_prior(cvae, 8, chorus, seed=0)
print(f"8 chorus samples, diversity {diversity(latent.to_raw(samples, data.norm)):.2f} dB")

# %%
_, path = latent.interpolate(cvae, data.X[test[0]].numpy(), data.X[test[-1]].numpy(), steps=5,
                             cond=int(data.y[test[0]]))
waves = SPEC.to_audio(torch.from_numpy(latent.to_raw(path, data.norm)), n_iter=32).numpy()
print("interpolation:", waves.shape, "— finite:", bool(np.isfinite(waves).all()))
