"""RAVE: realtime factor of encode + decode, parameter counts, training throughput.

    python benchmarks/bench_rave.py            # CPU, 2 threads (the course machine)
    python benchmarks/bench_rave.py --device cuda   # adds bf16 training throughput and GPU realtime factors

Realtime factor = seconds of audio / seconds of wall clock, for 10 s of noise-like audio at 44.1 kHz, batch 1,
the causal (streaming-capable) model, measured three ways side by side:

* ``whole``: the 10 s in one call (eager PyTorch, inference mode) — how acids-rave's figures for ``v2_small``
  (35.3×) and ``v2`` (17.6×) on this machine type were taken;
* ``TorchScript blocks``: the exported ``rave_live.ts`` fed 2048-sample blocks, one call each, as a realtime host
  does — the per-call overhead of ~70 small convolutions dominates at this block size;
* ``eager blocks``: the same blocks through the eager model in streaming mode.

Each is the best of 3 runs after one warm-up.  The small configuration is the lesson's architecture at 44.1 kHz;
``v2`` is dl4mir/models/configs/rave-v2.toml.  Training: optimizer steps per second (batch 8, phase 1 and phase 2)
on the config's own crop length.

    python benchmarks/bench_rave.py --quality runs/train/rave-audio

scores a trained RAVE (e.g. ``dl4mir train rave --data guitar-fx``: the small config's 4000 steps) on the rave
lesson's held-out notes beside the lesson's CVAE + Griffin-Lim, with the lesson's own functions.
"""
from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch

from dl4mir.config import read_toml
from dl4mir.generate.waveform import load_waveform_model
from dl4mir.lessons import LessonContext
from dl4mir.lessons.budgets import RAVE, per_profile
from dl4mir.lessons.rave import comparison
from dl4mir.models import build_model
from dl4mir.models.rave import CONFIGS, Live, export_live

SECONDS, SR = 10.0, 44100


def _best(fn, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def realtime(model, device) -> dict:
    block = model.block_size
    n = int(SECONDS * SR) // block * block
    x = 0.1 * torch.randn(1, 1, n, generator=torch.Generator().manual_seed(0)).to(device)
    model = model.to(device).eval()
    out = {}

    @torch.inference_mode()
    def whole():
        model.decode(model.encode(x))
        _sync(device)

    out["whole"] = n / SR / _best(whole)
    if device.type == "cpu":
        with tempfile.TemporaryDirectory() as tmp:
            live = torch.jit.load(str(export_live(model, tmp)["torchscript"]))

            @torch.inference_mode()
            def scripted():
                for i in range(0, n, 2048):
                    live(x[..., i:i + 2048])

            out["torchscript_blocks"] = n / SR / _best(scripted)
        eager = Live(model)

        @torch.inference_mode()
        def blocks():
            for i in range(0, n, 2048):
                eager(x[..., i:i + 2048])

        out["eager_blocks"] = n / SR / _best(blocks)
    return out


def training(model, device, *, amp: bool) -> dict:
    model = copy.deepcopy(model).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.5, 0.9), fused=True)
    x = 0.1 * torch.randn(8, 1, model.cfg.crop_samples, device=device)
    out = {}
    for phase, step in (("phase1", 0), ("phase2", model.cfg.phase1_steps)):
        def one():
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = model(x, step=step)["loss"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            _sync(device)

        out[phase] = 1.0 / _best(one)
    return out


def quality(run: str, profile: str) -> None:
    model, _ = load_waveform_model(run)
    with tempfile.TemporaryDirectory() as tmp:
        cmp = comparison(LessonContext(out_dir=Path(tmp), profile=profile), {"rave": model},
                         n_notes=per_profile(RAVE, profile)["notes"])
    print(f"{len(cmp['rows'])} held-out notes (guitar-fx {profile}, string 5); the judge recognizes "
          f"{cmp['originals_recognized']:.1%} of the originals")
    for name, r in cmp["results"].items():
        print(f"  {name:18s} MR-STFT {r['mrstft']:.3f}   LSD {r['lsd_db']:5.2f} dB   effect type recognized "
              f"{r['recognized']:.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (default: %(default)s)")
    ap.add_argument("--skip-v2-training", action="store_true", help="leave out v2's (slow on a CPU) training figure")
    ap.add_argument("--quality", default=None, metavar="RUN",
                    help="score this trained RAVE on the lesson's held-out notes instead (default: speed figures)")
    ap.add_argument("--profile", default="default", help="guitar-fx profile for --quality (default: %(default)s)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.quality:
        quality(args.quality, args.profile)
        return
    device = torch.device(args.device)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    for name in ("rave-small.toml", "rave-v2.toml"):
        cfg = read_toml(CONFIGS / name)["model"]
        model = build_model("rave", **{**cfg, "sample_rate": SR})
        rt = realtime(model, device)
        print(f"{name}: encoder + decoder {count(model.encoder) + count(model.decoder):,} weights "
              f"(encoder {count(model.encoder):,}, decoder {count(model.decoder):,}), discriminator "
              f"{count(model.discriminator):,}; latent {cfg['latent_dim']} × {SR / model.block_size:.1f} frames/s")
        print("  realtime factor at 44.1 kHz, batch 1: " + ", ".join(f"{k} {v:.1f}×" for k, v in rt.items()))
        if name == "rave-v2.toml" and args.skip_v2_training and device.type == "cpu":
            continue
        tr = training(model, device, amp=device.type == "cuda")
        print(f"  training, batch 8 × {cfg['crop_samples']} samples{' (bf16 autocast)' if device.type == 'cuda' else ''}: "
              + ", ".join(f"{k} {v:.2f} steps/s" for k, v in tr.items()))


if __name__ == "__main__":
    main()
