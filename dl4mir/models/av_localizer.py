"""Audio-visual correspondence for sound localization ("How to Listen? Rethinking Visual Sound Localization",
Wu, Fuentes, Seetharaman & Bello 2022; the setup of Arandjelović & Zisserman 2018 and Chen et al. 2021).

An audio tower (log-mel → the course's CNN → a unit vector) and a visual tower (the Sound of Pixels video network
without its sigmoid → a unit vector per place on an 8-px grid) meet in one space.  The similarity of a clip's sound
to each place is a map ``(h, w)``; a video's score for a sound is the map's maximum (multiple-instance learning:
*somewhere* in the frame is the source).  Trained contrastively, with no labels: in a batch of B videos each sound
must score its own video above the B − 1 others, and each video its own sound (symmetric InfoNCE at temperature
``temperature``).  Localization is the map itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from dl4mir.features.nn import LogMel
from dl4mir.models.cnn import CNN, CNNConfig
from dl4mir.models.sound_of_pixels import VisionNet


@dataclass
class AVLocalizerConfig:
    sample_rate: int = 11025  # the data says (SceneMixtures.input_shape)
    n_samples: int = 33075
    crop_samples: int = 11025  # 1 s of sound per training pair
    frame_size: int = 112
    n_frames_in: int = 3
    frame_downsample: int = 2
    n_mels: int = 64
    embed_dim: int = 32
    audio_channels: tuple = (16, 32, 64)
    vision_channels: tuple = (16, 32)
    temperature: float = 0.07


class AVLocalizer(nn.Module):
    input_kind = "scenes"
    default_task = "scenes"
    val_metric = "loss"
    n_mix = 1  # one video and its own sound per row

    def __init__(self, cfg: AVLocalizerConfig):
        super().__init__()
        self.cfg = cfg
        self.log_mel = LogMel(sr=cfg.sample_rate, n_fft=1024, hop_length=256, n_mels=cfg.n_mels)
        self.norm = nn.BatchNorm1d(cfg.n_mels)
        self.audio = CNN(CNNConfig(n_mels=cfg.n_mels, n_classes=cfg.embed_dim, channels=tuple(cfg.audio_channels),
                                   dropout=0.0))
        self.vision = VisionNet(tuple(cfg.vision_channels), cfg.embed_dim, cfg.frame_downsample, sigmoid=False)

    def embed_audio(self, y: torch.Tensor) -> torch.Tensor:  # (B, n) -> (B, D), unit norm
        return F.normalize(self.audio(self.norm(self.log_mel(y.float()))), dim=-1)

    def embed_frames(self, frames: torch.Tensor) -> torch.Tensor:  # uint8 (B, n, 3, H, W) -> (B, D, h, w)
        return F.normalize(self.vision(frames.float() / 255.0), dim=1)

    def forward(self, x: torch.Tensor, y: torch.Tensor, step=None) -> dict:
        """``x`` frames uint8 (B, 1, n_frames, 3, H, W), ``y`` sounds (B, 1, n)."""
        a = self.embed_audio(y[:, 0])  # (B, D)
        v = self.embed_frames(x[:, 0])  # (B, D, h, w)
        scores = torch.einsum("id,jdhw->ijhw", a, v).amax(dim=(2, 3)) / self.cfg.temperature  # sound i, video j
        target = torch.arange(len(a), device=a.device)
        loss = (F.cross_entropy(scores, target) + F.cross_entropy(scores.T, target)) / 2
        return {"loss": loss, "batch_top1": (scores.argmax(dim=1) == target).float().mean()}

    @torch.no_grad()
    def similarity_map(self, frames: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of each clip's sound to each place of its frames, ``(B, h, w)`` in [−1, 1]."""
        return torch.einsum("bd,bdhw->bhw", self.embed_audio(y), self.embed_frames(frames))
