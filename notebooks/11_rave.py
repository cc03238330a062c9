# %% [markdown]
# # 11 · RAVE: a realtime waveform VAE
#
# *Does a model that makes waveforms directly beat a spectrogram model whose phase Griffin-Lim has to guess? What
# can one do with its latent space?* (Caillon & Esling 2021, "RAVE: A variational autoencoder for fast and
# high-quality neural audio synthesis".)  The guitar notes of `guitar-fx`, the held-out string 5 for evaluation.

# %%
import numpy as np
import torch

from dl4mir.lessons import notebook_context, run_lesson
from dl4mir.lessons import rave as lesson
from dl4mir.models.pqmf import PQMF, reconstruction_snr_db
from dl4mir.train.data import prepare_audio

ctx = notebook_context("rave")

# %% [markdown]
# RAVE first splits the waveform into 16 frequency bands with a pseudo-quadrature mirror filter bank (PQMF): each
# band is critically sampled (1/16 of the rate), so every convolution after it runs 16 times slower than the
# audio, and the bank puts the bands back together almost perfectly, a few milliseconds late.

# %%
audio = prepare_audio(ctx.guitar, sr=lesson.SR, crop_samples=8192, profile=ctx.profile, max_files=20)
x, _ = audio.batch(audio.rows("val")[:4])
bank = PQMF(16)
bands = bank.analysis(x)
print(f"{tuple(x.shape)} → bands {tuple(bands.shape)}; reconstruction SNR "
      f"{reconstruction_snr_db(x, bank):.1f} dB, delay {bank.delay} samples = {1000 * bank.delay / lesson.SR:.1f} ms")
power = (bands ** 2).mean(dim=(0, 2))
print("share of the power per band:", np.round((power / power.sum()).numpy(), 3))

# %% [markdown]
# The model's small configuration (the lesson trains it for a number of steps set by the profile): the encoder
# folds 2048 samples into one latent frame; phase 1 learns to reconstruct (multi-scale spectral distance plus a
# small KL term), phase 2 freezes the encoder and lets a waveform discriminator sharpen the decoder.

# %%
model_cfg, train_cfg = lesson.settings(ctx.profile)
print({k: model_cfg[k] for k in ("sample_rate", "capacity", "ratios", "latent_dim", "crop_samples", "beta",
                                 "phase1_steps")})
print(train_cfg)

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: both phases, the held-out notes reconstructed by RAVE and by the
# conditional VAE + Griffin-Lim, scored by MR-STFT distance, log-spectral distance and a judge CNN; then the
# fidelity table, timbre transfer (violin, vowel → guitar), a latent walk and prior samples.

# %%
record = run_lesson("rave", ctx)
ctx.show()
for row in record["metrics"]["fidelity"]:
    print(f"{row['dims']:2d} latent dims: {row['variance']:.1%} of the variance, MR-STFT {row['mrstft']:.2f}")
print(record["metrics"]["answer"])
