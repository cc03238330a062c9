# %% [markdown]
# # 1 · Digital audio and the DFT
#
# *Is audio's dimensionality small or big? How does a spectrogram relate to the DFT?*
#
# We take one note of the synthetic EGFxSet-layout dataset (`guitar-fx`, generated on first use, no network),
# compute its DFT as a matrix product, check it against the FFT, hear aliasing, and cut the note into frames: a
# spectrogram is one DFT per frame.  Every step is a function of `dl4mir.lessons.dft`, the same code `dl4mir run`
# runs.

# %%
import numpy as np

from dl4mir.lessons import dft, notebook_context, run_lesson

ctx = notebook_context("dft")  # profile from $DL4MIR_PROFILE (tests use "quick")
clip = dft.open_a_string(ctx.dataset(ctx.guitar))
y, sr = clip.load()
print(clip.clip_id, clip.labels["effect"], f"{len(y)} samples at {sr} Hz = {len(y) / sr:.2f} s")

# %% [markdown]
# One second of audio at 16 kHz is a point in a 16,000-dimensional space: big.  The DFT is a change of basis,
# `X = W y` with `W[k, n] = exp(-2πi kn/N)`: exact, but N² multiplications where the FFT needs N log N.

# %%
for n, r in dft.dft_by_hand().items():
    print(f"N = {n:5d}: max |DFT − FFT| = {r['max_abs_error']:.1e}, FFT {r['fft_speedup']:.0f}× faster")

# %% [markdown]
# A tone above half the sampling rate cannot be represented: sampled at 8 kHz, a 5 kHz sine is indistinguishable
# from a 3 kHz one.

# %%
tone, alias_hz = dft.alias(fs=8000, f_tone=5000.0)
print(f"5000 Hz sampled at 8000 Hz peaks at {alias_hz:.0f} Hz")

# %% [markdown]
# The short-time Fourier transform slides a Hann window along the signal and takes a DFT of every frame; one
# frame of it, rebuilt by hand, matches.

# %%
S, rel_err = dft.stft_frame_by_hand(y, n_fft=512, hop=128, frame=10)
print("spectrogram (frequency bins, frames):", S.shape, f"— frame 10 by hand, relative error {rel_err:.1e}")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: its figures, the sounds, and the answer written from these numbers.

# %%
record = run_lesson("dft", ctx)
ctx.show()
print(record["metrics"]["answer"])
