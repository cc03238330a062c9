"""How fast is guitar-fx generated?  Prints × realtime (seconds of audio written per wall-clock second).

    python benchmarks/bench_synth.py                 # default profile, all cores and 1 core, side by side
    python benchmarks/bench_synth.py --profile full  # EGFxSet's full size (8,970 files, 48 kHz, 5 s)
    python benchmarks/bench_synth.py --dataset guitar-fx-playing   # riffs and chords on varied guitars

Everything is timed end to end: rendering, effects, WAV encoding, md5 and the index.  A first untimed quick run
warms numba's on-disk cache so the figures are steady-state (a fresh install pays ~2 s of compilation once).
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def timed_generate(config, workers: int) -> float:
    from dl4mir.data.synth.guitar_fx import generate

    root = Path(tempfile.mkdtemp(prefix="bench_gfx_"))
    try:
        t0 = time.perf_counter()
        generate(root / "d", config, workers=workers, show_progress=False)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(root)


def main() -> None:
    from dl4mir.data.registry import synthetic_config
    from dl4mir.data.synth.guitar_fx import GuitarFxConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default", choices=("quick", "default", "full"))
    ap.add_argument("--dataset", default="guitar-fx", choices=("guitar-fx", "guitar-fx-playing"),
                    help="single notes, or the playing variant (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=2, help="best of N (default: %(default)s)")
    args = ap.parse_args()

    timed_generate(GuitarFxConfig(strings=(1,), frets=(0,), duration_s=0.2), workers=1)  # warm numba's cache
    config = synthetic_config(args.dataset, args.profile)
    cores = os.cpu_count() or 1
    print(f"{args.dataset} '{args.profile}': {config.n_files} files, {config.audio_seconds:.0f} s of audio, "
          f"{config.sample_rate} Hz, {config.duration_s} s clips, {cores} cores")
    print(f"{'workers':>8} {'best wall s':>12} {'x realtime':>11} {'files/s':>8}")
    results = {}
    for workers in sorted({cores, 1}, reverse=True):
        best = min(timed_generate(config, workers) for _ in range(args.repeats))
        results[workers] = best
        print(f"{workers:>8} {best:>12.2f} {config.audio_seconds / best:>11.0f} {config.n_files / best:>8.0f}")
    if len(results) > 1:
        print(f"parallel speed-up on {cores} cores: {results[1] / results[cores]:.2f}x")
    target = 300
    best_rt = config.audio_seconds / min(results.values())
    print(f"target >= {target}x realtime: {'MET' if best_rt >= target else 'MISSED'} ({best_rt:.0f}x)")


if __name__ == "__main__":
    main()
