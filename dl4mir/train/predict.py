"""Classify any audio file with an exported model: any sample rate, any channel count (mixed down), any length
(cropped or zero-padded to the training duration).  Bad files are reported at the end, never skipped silently."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from dl4mir.audio import BatchResult, load
from dl4mir.errors import AudioError, ConfigError
from dl4mir.features.bands import standardize_bands
from dl4mir.features.cache import FeatureSpec
from dl4mir.train.checkpoint import load_exported


def prepare_input(y: np.ndarray, spec: FeatureSpec, norm: dict) -> torch.Tensor:
    x = torch.from_numpy(spec.compute(y).astype(np.float32))
    if spec.name == "waveform":
        return x[None]  # (1, samples)
    return standardize_bands(x, norm)  # (n_mels, frames)


def predict_files(export_dir: str | os.PathLike, paths, *, top_k: int = 3, max_channels: int = 8) -> BatchResult:
    """``BatchResult`` whose ``ok`` maps each path to its top-k ``[(class, probability), …]`` (or value)."""
    model, meta = load_exported(Path(export_dir))
    if meta.get("kind") == "generative":
        raise ConfigError(f"{export_dir} holds a generative model ({meta['model']}); use `dl4mir generate`")
    spec = FeatureSpec.parse(meta["feature_spec"])
    result = BatchResult()
    for p in paths:
        try:
            y, _ = load(p, sr=spec.sr, mono=True, max_channels=max_channels)
            with torch.no_grad():
                out = model(prepare_input(y, spec, meta["norm"])[None])[0]
        except AudioError as exc:
            result.failures.append((os.fspath(p), exc.cause))
            continue
        if meta["kind"] == "classification":
            probs = torch.softmax(out, dim=0)
            top = torch.topk(probs, min(top_k, len(probs)))
            result.ok[os.fspath(p)] = [(meta["classes"][i], float(v)) for v, i in zip(top.values, top.indices)]
        else:
            norm = meta["norm"]
            value = float(out.squeeze()) * norm.get("target_std", 1.0) + norm.get("target_mean", 0.0)
            result.ok[os.fspath(p)] = [(meta["task"], value)]
    return result
