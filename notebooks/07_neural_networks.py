# %% [markdown]
# # 7–8, 11 · Feed-forward, convolutional, recurrent and attention networks
#
# *Which effect is on this note, for a guitar string the model never heard?  How many layers are necessary?*
# One task, one split (test: a held-out string; validation: another), one training loop for every model family —
# `dl4mir.train.train_model`, which `dl4mir train` runs too.

# %%
from dl4mir.lessons import neural_networks, notebook_context, run_lesson
from dl4mir.lessons.budgets import epochs

ctx = notebook_context("neural-networks")
data = neural_networks.course_data(ctx)
d = data["logmel"]
print({split: len(d.rows(split)) for split in ("train", "val", "test")}, "clips; log-mel input", tuple(d.X.shape[1:]))

# %% [markdown]
# One model first: a multilayer perceptron on the flattened log-mel spectrogram.

# %%
mlp = neural_networks.train_and_test(ctx, data, "mlp", epochs("neural-networks", ctx.profile)["mlp"])
print(f"MLP: effect accuracy {mlp['test_accuracy']:.3f}, effect type {mlp['effect_type_accuracy']:.3f}, "
      f"{mlp['parameters']:,} parameters, {mlp['train_seconds']:.0f} s")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: every family (MLP, CNN, waveform CNN, CRNN, transformer), learning
# curves, the best model's confusion matrix.

# %%
record = run_lesson("neural-networks", ctx)
ctx.show()
print(record["metrics"]["answer"])
