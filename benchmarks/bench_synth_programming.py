"""How fast do dl4mir's differentiable synthesizers render?  Prints × realtime (seconds of audio per second).

    python benchmarks/bench_synth_programming.py                  # batch 64 of 1 s notes at 16 kHz (the issue's case)
    python benchmarks/bench_synth_programming.py --device cuda    # the same on a GPU
    python benchmarks/bench_synth_programming.py --backward       # forward + backward (what training pays)

Each synth renders random patches (``dl4mir.synth.patches.random_patch``) through ``render_batch``, envelopes and
all; the best of ``--repeats`` after one warm-up.  torchsynth's Voice (a modular torch synth, states 16,200×
realtime on a GPU) is timed the same way when it imports next to this torch.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dl4mir.synth import patches


def batch_params(synth: str, batch: int, device: str, grad: bool) -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(0)
    rows = [patches.random_patch(synth, rng) for _ in range(batch)]
    return {k: torch.tensor([r[k] for r in rows], dtype=torch.float32, device=device, requires_grad=grad)
            for k in rows[0]}


def timed(fn, repeats: int, device: str) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=64, help="notes per batch (default: %(default)s)")
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each note (default: %(default)s)")
    ap.add_argument("--sample-rate", type=int, default=16000, help="sample rate in Hz (default: %(default)s)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    ap.add_argument("--backward", action="store_true", help="time forward + backward (default: forward only)")
    ap.add_argument("--repeats", type=int, default=5, help="best of N (default: %(default)s)")
    args = ap.parse_args()
    n = int(args.seconds * args.sample_rate)
    audio_s = args.batch * args.seconds
    print(f"batch {args.batch} × {args.seconds:g} s at {args.sample_rate} Hz on {args.device}, "
          f"{torch.get_num_threads()} threads, {'forward + backward' if args.backward else 'forward'}")
    for synth in patches.SPACES:
        params = batch_params(synth, args.batch, args.device, args.backward)
        f0 = torch.tensor(np.geomspace(55, 880, args.batch), dtype=torch.float32, device=args.device)

        def run():
            y = patches.render_batch(synth, params, f0_hz=f0, note_s=0.7 * args.seconds,
                                     sample_rate=args.sample_rate, n_samples=n)
            if args.backward:
                y.pow(2).mean().backward()
            return y

        with torch.set_grad_enabled(args.backward):
            seconds = timed(run, args.repeats, args.device)
        print(f"{synth:15s} {seconds * 1e3:8.1f} ms   {audio_s / seconds:8.0f}× realtime")
    try:
        from torchsynth.config import SynthConfig
        from torchsynth.synth import Voice
    except Exception as exc:  # noqa: BLE001 - any import failure is the answer
        print(f"torchsynth: not importable here ({type(exc).__name__}: {exc})")
        return
    voice = Voice(SynthConfig(batch_size=args.batch, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds,
                              reproducible=False)).to(args.device)
    with torch.no_grad():
        seconds = timed(lambda: voice(0), args.repeats, args.device)
    print(f"{'torchsynth Voice':15s} {seconds * 1e3:8.1f} ms   {audio_s / seconds:8.0f}× realtime")


if __name__ == "__main__":
    main()
