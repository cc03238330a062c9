"""1-D CNN on the raw waveform: a strided stem learns its own filterbank, then conv blocks with pooling."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class WaveformCNNConfig:
    n_classes: int = 13
    stem_channels: int = 32
    stem_kernel: int = 64  # 8 ms at 8 kHz: long enough to resolve a low E's period
    stem_stride: int = 8
    channels: tuple[int, ...] = (32, 64, 64, 128)
    dropout: float = 0.3


class WaveformCNN(nn.Module):
    input_kind = "waveform"

    def __init__(self, cfg: WaveformCNNConfig):
        super().__init__()
        self.cfg = cfg
        layers = [nn.Conv1d(1, cfg.stem_channels, cfg.stem_kernel, stride=cfg.stem_stride, padding=cfg.stem_kernel // 2,
                            bias=False), nn.BatchNorm1d(cfg.stem_channels), nn.ReLU()]
        c_in = cfg.stem_channels
        for c in cfg.channels:
            layers += [nn.Conv1d(c_in, c, 9, padding=4, bias=False), nn.BatchNorm1d(c), nn.ReLU(), nn.MaxPool1d(4)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * c_in, cfg.n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, n)
        h = self.features(x)  # (B, C, n / (stride·4^blocks))
        h = torch.cat([h.mean(-1), h.amax(-1)], dim=1)  # average and max over time -> (B, 2C)
        return self.head(self.dropout(h))
