"""Per-band standardization of spectrogram-like features ``(..., bands, frames)``.

The statistics come from the training rows only and travel with an exported model (its ``norm``), so training,
evaluation, ``predict`` and the generative models' way back to audio all standardize the same way.
"""
from __future__ import annotations

import torch


def band_statistics(X: torch.Tensor) -> dict:
    """``{"kind": "per-band", "mean": [...], "std": [...]}`` over items and frames of ``X`` ``(N, bands, frames)``."""
    return {"kind": "per-band", "mean": X.mean(dim=(0, 2)).tolist(), "std": X.std(dim=(0, 2)).tolist()}


def _columns(norm: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-band ``(mean, std)`` as ``(bands, 1)`` columns; a constant band keeps a floor of 1e-6."""
    return torch.tensor(norm["mean"])[:, None], torch.tensor(norm["std"])[:, None].clamp_min(1e-6)


def standardize_bands(x: torch.Tensor, norm: dict) -> torch.Tensor:
    """``(x − mean) / std`` per band, with the statistics stored in ``norm`` (see :func:`band_statistics`)."""
    mean, std = _columns(norm)
    return (x - mean) / std


def unstandardize_bands(x: torch.Tensor, norm: dict) -> torch.Tensor:
    """The inverse of :func:`standardize_bands`."""
    mean, std = _columns(norm)
    return x * std + mean
