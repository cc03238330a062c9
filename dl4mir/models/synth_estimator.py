"""Synthesizer parameter estimation (sound matching): a note's log-mel spectrogram → the patch that made it, as the
patch's point in the unit cube of its synth's parameters (:mod:`dl4mir.synth.patches`).  Flow Synthesizer's
(Esling et al. 2020) MLP and CNN baselines; trained on ``synth-presets`` by mean squared error in that cube.

The CNN keeps time (no global pooling): an envelope's attack, decay and release are *when* things happen.  The
head ends in a sigmoid, so every prediction is a valid patch; :func:`dl4mir.synth.patches.denormalize` turns it
into one and :func:`dl4mir.synth.matching.match` can refine it through the synth.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dl4mir.errors import ParameterError


@dataclass
class SynthEstimatorConfig:
    n_mels: int = 64
    n_frames: int = 63  # 1 s at hop 256, 16 kHz
    n_params: int = 14  # the synth's parameter count (the data says: its target vectors' length)
    encoder: str = "cnn"  # or "mlp"
    channels: tuple[int, ...] = (16, 32, 64)
    hidden: int = 256
    dropout: float = 0.2
    target_mean: float = 0.0  # the loop standardizes targets: unit-cube value = target · std + mean
    target_std: float = 1.0


class SynthEstimator(nn.Module):
    input_kind = "logmel"
    own_objective = True  # forward computes the loss from the patch vectors
    val_metric = "param_mse"

    def __init__(self, cfg: SynthEstimatorConfig):
        super().__init__()
        if cfg.encoder not in ("cnn", "mlp"):
            raise ParameterError(f"synth-estimator encoder {cfg.encoder!r}: use 'cnn' or 'mlp'")
        self.cfg = cfg
        if cfg.encoder == "cnn":
            blocks, c_in = [], 1
            for c in cfg.channels:
                blocks += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
                c_in = c
            self.encoder = nn.Sequential(*blocks, nn.Flatten())
            shrink = 2 ** len(cfg.channels)
            n_flat = c_in * (cfg.n_mels // shrink) * (cfg.n_frames // shrink)
        else:
            self.encoder = nn.Flatten()
            n_flat = cfg.n_mels * cfg.n_frames
        self.head = nn.Sequential(nn.Linear(n_flat, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
                                  nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.n_params))

    def params(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_mels, T)`` → ``(B, n_params)`` in [0, 1]."""
        h = self.encoder(x.unsqueeze(1) if self.cfg.encoder == "cnn" else x)
        return torch.sigmoid(self.head(h))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        if cond is None or cond.ndim != 2 or cond.shape[1] != self.cfg.n_params:
            raise ParameterError(f"synth-estimator is trained on ({self.cfg.n_params},) patch vectors; got "
                                 f"{None if cond is None else tuple(cond.shape)}")
        target = cond.float() * self.cfg.target_std + self.cfg.target_mean
        pred = self.params(x)
        return {"loss": nn.functional.mse_loss(pred, target), "param_mse": nn.functional.mse_loss(pred, target),
                "param_mae": (pred - target).abs().mean()}
