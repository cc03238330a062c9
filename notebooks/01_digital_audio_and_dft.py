# %% [markdown]
# # 1 · Digital audio and the DFT
#
# *Is audio's dimensionality small or big? How does a spectrogram relate to the DFT?*
#
# We load one note of the synthetic EGFxSet-layout dataset (`guitar-fx`, generated on first use, no network),
# compute its DFT as a matrix product, check it against the FFT, and cut it into frames: a spectrogram is a DFT
# per frame.

# %%
import os

import numpy as np

from dl4mir.data import get_dataset
from dl4mir.features import spectral as F

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")  # tests run the notebooks with "quick"
guitar = get_dataset("guitar-fx", profile=PROFILE)
clip = guitar.clips[0]
y, sr = clip.load()
print(clip.clip_id, clip.labels["effect"], f"{len(y)} samples at {sr} Hz = {len(y) / sr:.2f} s")

# %% [markdown]
# One second of audio at 16 kHz is a point in a 16,000-dimensional space: big.  The DFT is a change of basis:
# `X = W y` with `W[k, n] = exp(-2πi kn/N)`.

# %%
n = 1024
X_matrix = F.dft(y[:n])
X_fft = np.fft.fft(y[:n])
print("max |DFT − FFT| =", np.max(np.abs(X_matrix - X_fft)))
peak_bin = np.argmax(np.abs(X_fft[: n // 2]))
print(f"strongest bin {peak_bin} = {peak_bin * sr / n:.1f} Hz; labelled pitch MIDI {clip.labels['midi']}")

# %% [markdown]
# The short-time Fourier transform slides a window along the signal and takes a DFT of every frame.

# %%
S = np.abs(F.stft(y, n_fft=1024, hop_length=256))
print("spectrogram shape (frequency bins, frames):", S.shape)
S_db = F.amplitude_to_db(S, ref=S.max())
print(f"dynamic range shown: {S_db.max() - S_db.min():.0f} dB")
