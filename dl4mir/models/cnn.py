"""2-D CNN on log-mel spectrograms: conv → batch norm → ReLU → max-pool blocks, global average pooling, dropout.

Initialization: Kaiming-normal (fan-out, ReLU) for convolutions, as He et al. (2015) derive for ReLU networks;
batch-norm scale 1, shift 0; the classifier starts small so the first softmax is near uniform.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dl4mir.errors import ParameterError


@dataclass
class CNNConfig:
    n_mels: int = 64
    n_classes: int = 13
    channels: tuple[int, ...] = (16, 32, 64, 64)
    dropout: float = 0.3
    # "band mean": each band's mean over the clip subtracted first (cepstral mean normalization): a fixed EQ, which
    # is what one guitar, pickup or DI box differs from another by, adds a constant per band in log-mel and vanishes
    input_norm: str = "none"


class CNN(nn.Module):
    input_kind = "logmel"

    def __init__(self, cfg: CNNConfig):
        super().__init__()
        if cfg.input_norm not in ("none", "band mean"):
            raise ParameterError(f"input_norm {cfg.input_norm!r}: use 'none' or 'band mean'")
        self.cfg = cfg
        blocks, c_in = [], 1
        for c in cfg.channels:
            blocks += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(c_in, cfg.n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T)
        """The pooled features before the classifier, ``(B, C)``: what the Fréchet distance compares."""
        if self.cfg.input_norm == "band mean":
            x = x - x.mean(dim=2, keepdim=True)
        h = self.features(x.unsqueeze(1))  # (B, 1, F, T) -> (B, C, F/16, T/16)
        return h.mean(dim=(2, 3))  # global average pool -> (B, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T)
        return self.head(self.dropout(self.embed(x)))  # (B, n_classes)
