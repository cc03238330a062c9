"""Training speed on the effect task (guitar-fx, default profile: 2 s clips, 64-mel log-mel or 8 kHz waveform).

    python benchmarks/bench_train.py                # throughput per model + CNN time to 95 % validation accuracy
    python benchmarks/bench_train.py --skip-tta     # throughput only

Throughput: training clips per second (forward + backward + optimizer), batch 32, after 3 warm-up steps, on
this machine's CPU (and CUDA when present).  Time-to-accuracy: wall-clock seconds of `fit` (training plus one
validation pass per epoch, features already cached) until the validation string first reaches 95 % accuracy.
Target (issue 4): ≤ 120 s on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import torch


def throughput(model, data, device, loss_of, *, steps: int = 15, batch: int = 32, fused: bool = False) -> float:
    """Training clips per second: ``loss_of(model, x, y)`` → backward → AdamW step, after 3 warm-up steps."""
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=fused)
    rows = data.rows("train")

    def step(i):
        x, y = data.batch(rows[(i * batch) % len(rows):][:batch])
        loss = loss_of(model, x.to(device), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.train()
    for i in range(3):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def classifier_throughput(name: str, data, device) -> float:
    from dl4mir.models import build_model

    model = build_model(name, n_classes=len(data.classes), **data.input_shape())
    ce = torch.nn.CrossEntropyLoss()
    return throughput(model, data, device, lambda m, x, y: ce(m(x), y))


def main() -> None:
    from dl4mir.models import CLASSIFIERS, build_model, input_kind
    from dl4mir.train.data import prepare
    from dl4mir.train.loop import TrainConfig, fit

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--skip-tta", action="store_true", help="skip the time-to-accuracy run")
    args = ap.parse_args()
    data = {kind: prepare("effect", input_kind=kind, profile=args.profile) for kind in ("logmel", "waveform")}
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"effect task, {args.profile} profile: {len(data['logmel'].rows('train'))} training clips; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'model':14s} " + " ".join(f"{d.type + ' clips/s':>14s}" for d in devices))
    for name in CLASSIFIERS:
        d = data[input_kind(name)]
        print(f"{name:14s} " + " ".join(f"{classifier_throughput(name, d, dev):14.0f}" for dev in devices), flush=True)
    if args.skip_tta:
        return
    d = data["logmel"]
    model = build_model("cnn", n_classes=len(d.classes), **d.input_shape())
    with tempfile.TemporaryDirectory() as tmp:
        summary = fit(model, d, TrainConfig(epochs=8, patience=99, progress=False), tmp)
    reached = next((e for e in summary["epoch_log"] if e["val_accuracy"] >= 0.95), None)
    for e in summary["epoch_log"]:
        print(f"  epoch {e['epoch']:2d}: {e['seconds']:6.1f} s, val accuracy {e['val_accuracy']:.4f}")
    if reached:
        verdict = "MET" if reached["seconds"] <= 120 else "MISSED"
        print(f"CNN reached 95 % validation accuracy at epoch {reached['epoch']} after {reached['seconds']:.1f} s "
              f"(target <= 120 s: {verdict}); test accuracy {summary['test']['accuracy']:.4f}")
    else:
        best = max(e["val_accuracy"] for e in summary["epoch_log"])
        print(f"CNN did not reach 95 % validation accuracy in {len(summary['epoch_log'])} epochs "
              f"({summary['seconds']:.1f} s; best {best:.4f}) — target MISSED")


if __name__ == "__main__":
    main()
