"""CRNN: convolutions summarize each frame's spectrum, a bidirectional GRU reads the frames in order."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class CRNNConfig:
    n_mels: int = 64
    n_classes: int = 13
    channels: tuple[int, ...] = (16, 32, 64)
    time_pool_blocks: int = 2  # blocks that also halve time: 126 frames reach the GRU as 31, ~4x less work
    hidden: int = 64
    dropout: float = 0.3


class CRNN(nn.Module):
    input_kind = "logmel"

    def __init__(self, cfg: CRNNConfig):
        super().__init__()
        self.cfg = cfg
        blocks, c_in = [], 1
        for i, c in enumerate(cfg.channels):
            pool = (2, 2) if i < cfg.time_pool_blocks else (2, 1)
            blocks += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(pool)]
            c_in = c
        self.conv = nn.Sequential(*blocks)
        freq_out = cfg.n_mels // 2 ** len(cfg.channels)
        self.gru = nn.GRU(c_in * freq_out, cfg.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * cfg.hidden, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T)
        h = self.conv(x.unsqueeze(1))  # (B, C, F', T')
        h = h.flatten(1, 2).transpose(1, 2)  # (B, T', C·F')
        out, _ = self.gru(h)  # (B, T', 2H)
        return self.head(self.dropout(out.mean(dim=1)))  # mean over frames -> (B, n_classes)
