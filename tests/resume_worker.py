"""Trains a small model on fixed random data; run as a subprocess by test_train.py (which kill -9s it)."""
import sys

import numpy as np
import torch

from dl4mir.models import build_model
from dl4mir.train.data import Task, TaskData
from dl4mir.train.loop import TrainConfig, fit


def make_data() -> TaskData:
    g = torch.Generator().manual_seed(123)
    X = torch.randn(96, 16, 20, generator=g)
    y = torch.randint(0, 3, (96,), generator=g)
    X[y == 1, :4] += 1.0  # something to learn
    rows = np.arange(96)
    return TaskData(Task("toy", "none", "label"), X, y, [str(i) for i in rows], ["a", "b", "c"],
                    {"train": rows[:64], "val": rows[64:80], "test": rows[80:]},
                    feature_spec=type("Spec", (), {"name": "logmel", "__str__": lambda s: "toy"})(), norm={})


def run(out_dir: str, *, announce: bool = False, **overrides) -> dict:
    torch.set_num_threads(1)
    data = make_data()
    model = build_model("cnn", n_classes=3, n_mels=16, channels=[4, 8], dropout=0.5)
    cfg = TrainConfig(epochs=4, batch_size=8, lr=1e-2, checkpoint_every=1, augment=True, patience=99, **overrides)
    return fit(model, data, cfg, out_dir, on_step=(lambda s: print(f"STEP {s}", flush=True)) if announce else None)


if __name__ == "__main__":
    run(sys.argv[1], announce=True)
    print("DONE", flush=True)
