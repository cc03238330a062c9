"""A small transformer encoder over spectrogram patches: each patch of ``patch_frames`` frames is embedded, a
learned [CLS] token and positions are added, self-attention mixes all patches, and [CLS] is classified."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class TransformerConfig:
    n_mels: int = 64
    n_frames: int = 126
    n_classes: int = 13
    patch_frames: int = 4
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    dropout: float = 0.1


class Transformer(nn.Module):
    input_kind = "logmel"

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.n_patches = cfg.n_frames // cfg.patch_frames
        self.embed = nn.Linear(cfg.n_mels * cfg.patch_frames, cfg.d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.d_model))
        self.pos = nn.Parameter(0.02 * torch.randn(1, self.n_patches + 1, cfg.d_model))
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, 4 * cfg.d_model, cfg.dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T)
        B, M, _ = x.shape
        P, p = self.n_patches, self.cfg.patch_frames
        patches = x[:, :, : P * p].reshape(B, M, P, p).permute(0, 2, 1, 3).reshape(B, P, M * p)  # (B, P, M·p)
        h = torch.cat([self.cls.expand(B, -1, -1), self.embed(patches)], dim=1) + self.pos  # (B, P+1, D)
        h = self.encoder(h)  # (B, P+1, D)
        return self.head(self.norm(h[:, 0]))  # the [CLS] token -> (B, n_classes)
