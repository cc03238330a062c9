"""The notebook's network: a feed-forward MLP on the flattened (standardized) log-mel spectrogram."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class MLPConfig:
    n_mels: int = 64
    n_frames: int = 126
    n_classes: int = 13
    hidden_sizes: tuple[int, ...] = (256, 128)
    dropout: float = 0.3


class MLP(nn.Module):
    input_kind = "logmel"

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        layers, width = [], cfg.n_mels * cfg.n_frames
        for h in cfg.hidden_sizes:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(cfg.dropout)]  # ReLU: no vanishing gradient
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T)
        return self.head(self.body(x.flatten(1)))  # (B, n_mels*T) -> (B, n_classes)
