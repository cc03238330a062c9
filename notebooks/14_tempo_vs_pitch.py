# %% [markdown]
# # 12 · Tempo vs. Pitch: self-supervised tempo and pitch
#
# *Can a model learn tempo without labels, knowing only that a time-stretch by a known ratio changes the tempo by
# that ratio? And pitch, from pitch-shifts? How many labels does self-supervision save?* (Morais, Davies, Queiroz &
# Fuentes, ICASSP 2023; Quinton, ISMIR 2022; SPICE.)  Drum grooves of the synthetic `rhythms` set (GTZAN's tempo
# layout) and the notes of `instruments` (TinySOL's layout).

# %%
import numpy as np
import torch

from dl4mir.lessons import notebook_context, run_lesson, tempo_pitch
from dl4mir.metrics import tempo_accuracy
from dl4mir.models import tempo_ssl

ctx = notebook_context("tempo-ssl")
data = tempo_pitch.tempo_data(ctx)
bpm = np.asarray(data.labels["tempo_bpm"], dtype=float)
test = data.rows("test")
print(f"{len(data.rows('train'))} training grooves, {len(test)} held out; "
      f"input: onset envelopes {tuple(data.X.shape[1:])}")

# %% [markdown]
# The classic estimator: autocorrelation of the onset envelope, weighted by a prior around 120 BPM. It finds
# the beat's period, but often at the wrong metrical level (Acc2 forgives factors 2, 3, ½, ⅓; Acc1 does not).
# madmom's estimator reads beat activations from recurrent networks trained on annotated music.

# %%
for name, est in tempo_pitch.baseline_tempi(ctx, data, test).items():
    acc = tempo_accuracy(bpm[test], est)
    print(f"{name:8s} Acc1 {acc['acc1']:.1%}, Acc2 {acc['acc2']:.1%}")

# %% [markdown]
# What the self-supervised model sees: the envelope's periodicity on a log-tempo axis, where a time-stretch is a
# shift. Two views of one groove, the second played 1.3 times faster: its peaks sit log2(1.3) octaves higher.

# %%
cfg = tempo_ssl.TempoSSLConfig(n_frames=data.X.shape[-1])
env = data.X[test[:1], 0]
faster = tempo_ssl.stretch(env, torch.tensor([1.3]), 336)
grid = tempo_ssl.tempo_grid(cfg).numpy()
for name, view in (("as recorded", env[:, :336]), ("1.3 x faster", faster)):
    p = tempo_ssl.periodicity(view, cfg)[0, 0].numpy()
    strongest = grid[np.argmax(np.where(grid > 40, p, -np.inf))]  # slower, the autocorrelation also peaks at bars
    print(f"{name:12s} strongest periodicity at {strongest:.0f} BPM")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: three representations × two tempo distributions trained without
# labels, calibration and fine-tuning with 5 … all labels, the same network trained on the labels alone, and self-supervised pitch
# against YIN and swift-f0.

# %%
record = run_lesson("tempo-ssl", ctx)
ctx.show()
print(record["metrics"]["answer"])
