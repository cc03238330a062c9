# %% [markdown]
# # 13 · Synthesizer programming: estimating and matching patches
#
# *Which design estimates a synthesizer's parameters from its sound best, and how close does refining the
# estimate through the differentiable synth get?* (Faronbi et al., ICASSP 2023; Esling et al.'s Flow Synthesizer;
# Caspe et al.'s DDX7.)  dl4mir's three differentiable synthesizers — DX7-style FM, DDSP's harmonic plus noise,
# and subtractive — and `synth-presets`, their random patches played at five pitches.

# %%
import numpy as np

from dl4mir.lessons import notebook_context, run_lesson, synth_programming
from dl4mir.lessons.budgets import SYNTH_PROGRAMMING, per_profile
from dl4mir.synth import patches

ctx = notebook_context("synth-programming")
rng = np.random.default_rng(0)
for synth in patches.SPACES:
    patch = patches.random_patch(synth, rng)
    ctx.wav(f"random_{synth}", patches.render(synth, patch, f0_hz=220.0, note_s=0.7, duration_s=1.0), 16000,
            f"a random {synth} patch at 220 Hz")
    print(f"{synth}: {len(patch)} parameters, e.g. " + ", ".join(f"{k} = {v:.3g}" for k, v in list(patch.items())[:3]))
ctx.show()

# %% [markdown]
# A patch is a point of its synth's unit cube (each parameter mapped to [0, 1] in its musical range, log-scaled for
# times and frequencies). An estimator reads a note's log-mel spectrogram and predicts that point; it is scored by
# rendering the predicted patch at the note's pitch and comparing it with the note (log-spectral distance, LSD),
# against the simplest guess: the training patches' mean.

# %%
found, _ = synth_programming.estimate(ctx, "harmonic-noise", per_profile(SYNTH_PROGRAMMING, ctx.profile))
for name in ("mean", "mlp", "cnn"):
    print(f"{name:5s} LSD {found[name]['lsd_db']:.1f} dB, parameter MAE {found[name]['param_mae']:.3f}")

# %% [markdown]
# The other way to program a synth (DDX7, DDSP): no patch to find; a network listens to a note's pitch and loudness,
# frame by frame, and plays the synth's controls so the result sounds like the recording. DDX7 drives the output
# levels of six FM operators with a small causal TCN; DDSP's decoder drives 100 harmonics and filtered noise with a
# GRU ten times its size. Both stream: the TCN keeps its context, the GRU its state, the oscillators their phase.
# The lesson below trains both for the same steps on the violin notes and plays a held-out note with each.

# %% [markdown]
# One estimator per synth is what Flow Synthesizer does. Faronbi et al. ask whether one model can program several
# synths, and how to share it: separate encoders and decoders (one model per synth, the baseline), one joint
# encoder with a decoder per synth (a note's error reaches only its synth's decoder), or a joint encoder and a
# joint decoder whose output is as long as the longest patch (the padding masked out). They found the joint
# designs better (mean LSD 72.9 against 86.8 in their units); the lesson trains all three on every synth's notes
# at once (`dl4mir train synth-estimator --multi-task joint-joint`) and says whether that holds here.

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: the three multi-task designs, estimate + refine (gradient descent
# through the synth on the multi-resolution STFT distance, starting from the best design's patch), a violin note
# that no synth made, matched by each, and DDX7 against DDSP's decoder on the violin notes.

# %%
record = run_lesson("synth-programming", ctx)
ctx.show()
print(record["metrics"]["answer"])
