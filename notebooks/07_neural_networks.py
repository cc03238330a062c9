# %% [markdown]
# # 7–8, 11 · Feed-forward, convolutional, recurrent and attention networks
#
# *Which effect is on this note, for a guitar string the model never heard?*  One task, one split, one training
# loop (checkpoints, exact resume, early stopping, export) for every model family.

# %%
import os
import tempfile

from dl4mir.models import build_model
from dl4mir.train.data import prepare
from dl4mir.train.loop import TrainConfig, fit

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
EPOCHS = 1 if PROFILE == "quick" else 4
data = prepare("effect", input_kind="logmel", profile=PROFILE)
print({split: len(data.rows(split)) for split in ("train", "val", "test")}, "clips; input", tuple(data.X.shape[1:]))

# %%
for name in ("mlp", "cnn"):
    model = build_model(name, n_classes=len(data.classes), **data.input_shape())
    with tempfile.TemporaryDirectory() as out:
        summary = fit(model, data, TrainConfig(epochs=EPOCHS, progress=False), out)
    print(f"{name}: test accuracy {summary['test']['accuracy']:.3f} "
          f"({sum(p.numel() for p in model.parameters()):,} parameters)")
