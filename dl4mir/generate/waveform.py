"""``dl4mir generate`` and ``dl4mir export`` for RAVE, which makes waveforms itself (no Griffin-Lim): timbre
transfer (any sound through the model), draws from the prior, latent paths between two sounds, and the streaming
TorchScript / ``torch.export`` files realtime hosts load.

Input files may have any sample rate or channel count (resampled to the model's rate, mixed down) and any length
(RAVE is convolutional: the whole file goes through); unreadable files are reported together at the end.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from dl4mir.audio import BatchResult, safe_peak, save
from dl4mir.errors import ConfigError
from dl4mir.features import spectral as F
from dl4mir.generate.commands import load_generative
from dl4mir.models import WAVEFORM_GENERATIVE
from dl4mir.models.rave import export_live
from dl4mir.report import plots


def export_dir(path) -> Path:
    """A run folder (``dl4mir train``'s ``--out``) or its ``export/`` folder → the export folder."""
    path = Path(path)
    return path / "export" if (path / "export" / "config.json").is_file() else path


def load_waveform_model(path):
    return load_generative(export_dir(path), families=WAVEFORM_GENERATIVE)


def is_waveform_model(path) -> bool:
    cfg = export_dir(path) / "config.json"
    try:
        return json.loads(cfg.read_text()).get("model") in WAVEFORM_GENERATIVE
    except (OSError, json.JSONDecodeError):  # load_exported names what is wrong with the folder
        return False


def _figure(path: Path, signals, titles, sr: int, *, title: str) -> Path:
    panels = [(t, F.amplitude_to_db(np.abs(F.stft(np.asarray(y, dtype=np.float32), n_fft=1024, hop_length=256)),
                                    ref=1.0, top_db=80.0), "frequency (Hz)") for t, y in zip(titles, signals)]
    longest = max(len(y) for y in signals) / sr
    return plots.image_panels(path, panels, ncols=min(4, len(panels)), title=title, extent=(0, longest, 0, sr / 2))


@torch.no_grad()
def _through(model, y: np.ndarray, n_dims: int | None) -> np.ndarray:
    return model.reconstruct(torch.from_numpy(np.asarray(y, dtype=np.float32))[None], n_dims=n_dims)[0, 0].numpy()


def transfer(path, files, out_dir, *, n_dims: int | None = None) -> dict:
    """Each file re-synthesized by the model (timbre transfer: a violin through a guitar model) →
    ``<file>_through_<model>.wav`` and one figure of inputs and outputs."""
    model, meta = load_waveform_model(path)
    sr = int(meta["sample_rate"])
    out_dir, result, shown = Path(out_dir), BatchResult(), []
    tag = f"through_{meta['model']}" + (f"_{n_dims}dims" if n_dims else "")
    for p, y, _ in result.each_loaded(files, sr=sr, mono=True):
        out = _through(model, y, n_dims)
        result.ok[p] = save(out_dir / f"{Path(p).stem}_{tag}.wav", safe_peak(out), sr=sr)
        shown += [(f"in: {Path(p).name}", y), (f"out: {Path(p).name}", out)]
    if shown:
        _figure(out_dir / f"transfer_{tag}.png", [y for _, y in shown[:8]], [t for t, _ in shown[:8]], sr,
                title=f"timbre transfer through {meta['model']}")
    return {"result": result, "notices": []}


def sample(path, out_dir, *, n: int = 4, seed: int = 0, duration_s: float = 2.0) -> dict:
    """``n`` draws from the prior ``z ~ N(0, I)``, ``duration_s`` each."""
    model, meta = load_waveform_model(path)
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    sr = int(meta["sample_rate"])
    frames = max(1, int(np.ceil(duration_s * sr / model.block_size)))
    with torch.no_grad():
        audio = model.sample(n, frames, generator=torch.Generator().manual_seed(seed)).numpy()
    out_dir = Path(out_dir)
    files = [save(out_dir / f"sample_prior_seed{seed}_{i:02d}.wav", safe_peak(y), sr=sr) for i, y in enumerate(audio)]
    fig = _figure(out_dir / f"samples_prior_seed{seed}.png", audio, [f"sample {i}" for i in range(n)], sr,
                  title=f"{meta['model']} prior samples, seed {seed}")
    return {"files": files, "figure": fig, "notices": []}


@torch.no_grad()
def interpolate(path, path_a, path_b, out_dir, *, steps: int = 8) -> dict:
    """Decode ``steps`` points on the straight line between the latent sequences of two files (cut to the shorter
    one): a latent traversal from one sound to the other."""
    model, meta = load_waveform_model(path)
    sr = int(meta["sample_rate"])
    result = BatchResult()
    loaded = [y for _, y, _ in result.each_loaded([path_a, path_b], sr=sr, mono=True)]
    result.raise_if_failed()
    n = min(len(y) for y in loaded)
    za, zb = (model.encode_signal(torch.from_numpy(np.asarray(y[:n], dtype=np.float32))[None]) for y in loaded)
    path_audio = np.stack([model.decode_signal((1 - t) * za + t * zb, n)[0, 0].numpy()
                           for t in np.linspace(0, 1, steps)])
    out_dir = Path(out_dir)
    what = f"{Path(path_a).stem}_to_{Path(path_b).stem}"
    files = [save(out_dir / f"{what}_step{i:02d}.wav", safe_peak(y), sr=sr) for i, y in enumerate(path_audio)]
    files.append(save(out_dir / f"{what}.wav", safe_peak(np.concatenate(list(path_audio))), sr=sr))
    fig = _figure(out_dir / f"{what}.png", path_audio, [f"t = {t:.2f}" for t in np.linspace(0, 1, steps)], sr,
                  title=f"{Path(path_a).name} → {Path(path_b).name}")
    return {"files": files, "figure": fig, "notices": []}


def export_streaming(path, out_dir=None, *, n_latents: int | None = None) -> dict[str, Path]:
    """The streaming TorchScript (``rave_live.ts``) and ``torch.export`` (``rave_live.pt2``) files of a trained
    causal RAVE, in ``out_dir`` (default: the export folder)."""
    model, _ = load_waveform_model(path)
    return export_live(model, Path(out_dir) if out_dir else export_dir(path), n_latents=n_latents)
