"""Which instruments play in a mixture: multi-label recognition (Day 2's reading on instrument recognition in
polyphonic audio, e.g. Han, Kim & Lee 2017).

The course's log-mel CNN with one *sigmoid* output per instrument instead of a softmax over them: each output
answers "is this instrument in the mix?" on its own, so any number of them can be on.  Trained with binary
cross-entropy on mixtures of 1–4 solos (:class:`dl4mir.train.scenes.InstrumentMixtures`); the waveform goes in,
the log-mel is computed inside (fixed buffers), so the exported model reads any audio at its sample rate.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from dl4mir.features.nn import LogMel
from dl4mir.models.cnn import CNN, CNNConfig


@dataclass
class PolyphonicConfig:
    sample_rate: int = 11025  # the data says
    n_samples: int = 33075  # clips read at this length
    crop_samples: int = 11025  # training mixtures are 1 s crops (global pooling: any length works after)
    n_classes: int = 8
    n_mels: int = 64
    n_fft: int = 1024
    hop_length: int = 256
    channels: tuple = (16, 32, 64, 64)
    dropout: float = 0.2


class Polyphonic(nn.Module):
    input_kind = "mixtures"
    default_task = "mixtures"
    val_metric = "loss"

    def __init__(self, cfg: PolyphonicConfig):
        super().__init__()
        self.cfg = cfg
        self.log_mel = LogMel(sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels)
        self.norm = nn.BatchNorm1d(cfg.n_mels)  # per-band standardization, learned from the training mixtures
        self.cnn = CNN(CNNConfig(n_mels=cfg.n_mels, n_classes=cfg.n_classes, channels=tuple(cfg.channels),
                                 dropout=cfg.dropout))

    def logits(self, y: torch.Tensor) -> torch.Tensor:  # (B, n) -> (B, n_classes)
        return self.cnn(self.norm(self.log_mel(y.float())))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, step=None):
        """``x`` waveforms (B, n); with multi-hot ``y`` (B, n_classes) the loss, without it the logits."""
        logits = self.logits(x)
        if y is None:
            return logits
        return {"loss": F.binary_cross_entropy_with_logits(logits, y),
                "exact_match": ((logits > 0) == (y > 0.5)).all(dim=1).float().mean()}
