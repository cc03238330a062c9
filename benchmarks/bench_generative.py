"""Generative models: training throughput and generation speed (guitar-fx default profile, 256 × 64 log-magnitude
spectrograms = 1.008 s of 16 kHz audio).

    python benchmarks/bench_generative.py

Training throughput: clips per second (forward + loss + backward + fused AdamW step), batch 32, after 3 warm-up
steps, for every generative model at its library defaults and at the sizes the course lessons train.
Generation: seconds of audio produced per second of wall clock (× realtime) for a batch of 64 CVAE samples,
split into decoding and Griffin-Lim (32 and 64 iterations), and Griffin-Lim alone on real clips with its
spectral convergence.  CPU always; CUDA columns when a GPU is present.
"""
from __future__ import annotations

import time

import numpy as np
import torch

MODELS = (("ae", {}), ("conv-ae", {}), ("denoising-ae", {}), ("vae", {}), ("conv-vae", {}), ("cvae", {}),
          ("cvae", {"arch": "dense"}), ("gan", {}), ("gan", {"channels": (8, 16, 32, 64)}))


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_throughput(name, cfg, data, device) -> float:
    from bench_train import throughput  # this folder is on sys.path when the script runs

    from dl4mir.models import build_model

    model = build_model(name, n_classes=len(data.classes), **data.input_shape(), **cfg)
    return throughput(model, data, device, lambda m, x, y: m(x, y)["loss"], steps=8, fused=True)


def generation(data, device, n=64) -> dict:
    from dl4mir.generate import latent
    from dl4mir.features.logmag import SPEC
    from dl4mir.models import build_model

    cvae = build_model("cvae", arch="dense", n_classes=len(data.classes), **data.input_shape()).to(device).eval()
    cond = torch.arange(n) % len(data.classes)
    out = {}
    with torch.no_grad():
        cvae.sample(n, cond)  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        X = cvae.sample(n, cond)
        _sync(device)
        out["decode"] = n * SPEC.duration_s / (time.perf_counter() - t0)
        logmag = torch.from_numpy(latent.to_raw(X.cpu().numpy(), data.norm)).to(device)
        for n_iter in (32, 64):
            SPEC.to_audio(logmag[:2], n_iter=2)
            _sync(device)
            t0 = time.perf_counter()
            SPEC.to_audio(logmag, n_iter=n_iter)
            _sync(device)
            out[f"griffin_lim_{n_iter}"] = n * SPEC.duration_s / (time.perf_counter() - t0)
    return out


def main() -> None:
    from dl4mir.generate import latent
    from dl4mir.features.logmag import SPEC
    from dl4mir.metrics import spectral_convergence
    from dl4mir.train.data import prepare

    data = prepare("effect", input_kind="logmag", profile="default")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"guitar-fx default: {len(data.rows('train'))} training spectrograms {tuple(data.X.shape[1:])}; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'model':34s} " + " ".join(f"{d.type + ' clips/s':>14s}" for d in devices))
    for name, cfg in MODELS:
        label = name + (" " + ",".join(f"{k}={v}" for k, v in cfg.items()) if cfg else "")
        print(f"{label:34s} " + " ".join(f"{train_throughput(name, cfg, data, d):14.0f}" for d in devices), flush=True)
    print("\ngeneration, 64 CVAE samples (× realtime = seconds of audio per second)")
    for d in devices:
        g = generation(data, d)
        print(f"  {d.type}: decode {g['decode']:.0f}×, Griffin-Lim 32 it {g['griffin_lim_32']:.1f}×, "
              f"64 it {g['griffin_lim_64']:.1f}×")
    rows = data.rows("test")[::10][:64]
    raw = torch.from_numpy(latent.to_raw(data.X[rows].numpy(), data.norm))
    target = SPEC.to_magnitude(raw)
    for n_iter in (0, 8, 32, 64, 128):
        y = SPEC.to_audio(raw, n_iter=n_iter)
        sc = spectral_convergence(target.numpy(), SPEC.stft(y).abs().numpy())
        print(f"  Griffin-Lim round trip of {len(rows)} real test clips, {n_iter:3d} iterations: spectral "
              f"convergence {np.mean(sc):.3f} (median {np.median(sc):.3f})")


if __name__ == "__main__":
    main()
