"""Autoencoders on log-magnitude spectrograms (lesson 9): lossy compression to a ``latent_dim`` code and back.

``arch="dense"`` is the course notebook's model (flatten → fully connected → code → fully connected); ``"conv"``
shares weights across time and frequency with strided convolutions, which suits spectrograms' local structure.
``noise_std > 0`` makes it a **denoising** autoencoder: during training the input is corrupted with Gaussian noise
(standardized units) and a masked band, while the target stays clean, so the code must capture structure rather
than copy pixels.  The reconstruction error of a trained autoencoder is an anomaly score (:mod:`dl4mir.generate.latent`).

Models here and in :mod:`.vae` and :mod:`.gan` work in the standardized representation of
:mod:`dl4mir.features.logmag` (``(B, n_freq, n_frames)``, per-bin zero mean and unit variance) and follow one
protocol the training loop relies on: ``forward(x, cond, step=)`` returns a dict whose ``"loss"`` is minimized and
whose other entries are logged, and ``val_metric`` names the entry that picks the best epoch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dl4mir.errors import ConfigError


@dataclass
class AutoencoderConfig:
    arch: str = "conv"  # dense | conv
    latent_dim: int = 16
    n_freq: int = 256
    n_frames: int = 64
    hidden: tuple[int, ...] = (512, 128)  # dense layers, encoder side (the decoder mirrors them)
    channels: tuple[int, ...] = (16, 32, 64, 128)  # conv blocks, each halves frequency and time
    noise_std: float = 0.0  # > 0: denoising autoencoder
    n_classes: int = 0  # > 0: conditioned on a class (used by the conditional VAE)
    cond_dim: int = 16


def _conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]


def _deconv_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2)]


class Encoder(nn.Module):
    """``(B, F, T)`` (+ an optional condition vector) → ``(B, n_out)``."""

    def __init__(self, cfg: AutoencoderConfig, n_out: int):
        super().__init__()
        self.arch = cfg.arch
        extra = cfg.cond_dim if cfg.n_classes else 0
        if cfg.arch == "dense":
            sizes = [cfg.n_freq * cfg.n_frames, *cfg.hidden]
            layers = []
            for a, b in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
            self.body, width = nn.Sequential(*layers), sizes[-1]
        elif cfg.arch == "conv":
            layers, c_in = [], 1
            for c in cfg.channels:
                layers += _conv_block(c_in, c)
                c_in = c
            self.body = nn.Sequential(*layers)
            down = 2 ** len(cfg.channels)
            width = c_in * (cfg.n_freq // down) * (cfg.n_frames // down)
        else:
            raise ConfigError(f"arch must be 'dense' or 'conv', got {cfg.arch!r}")
        self.head = nn.Linear(width + extra, n_out)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x.flatten(1) if self.arch == "dense" else x.unsqueeze(1)).flatten(1)  # (B, width)
        return self.head(h if c is None else torch.cat([h, c], dim=1))  # (B, n_out)


class Decoder(nn.Module):
    """``(B, latent_dim)`` (+ an optional condition vector) → ``(B, F, T)``; the mirror image of :class:`Encoder`."""

    def __init__(self, cfg: AutoencoderConfig, n_in: int):
        super().__init__()
        self.cfg = cfg
        n_in += cfg.cond_dim if cfg.n_classes else 0
        if cfg.arch == "dense":
            sizes = [n_in, *reversed(cfg.hidden)]
            layers = []
            for a, b in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
            self.body = nn.Sequential(*layers, nn.Linear(sizes[-1], cfg.n_freq * cfg.n_frames))
        else:
            down = 2 ** len(cfg.channels)
            self.grid = (cfg.channels[-1], cfg.n_freq // down, cfg.n_frames // down)
            self.stem = nn.Sequential(nn.Linear(n_in, self.grid[0] * self.grid[1] * self.grid[2]), nn.LeakyReLU(0.2))
            chans = list(reversed(cfg.channels))
            layers = []
            for a, b in zip(chans[:-1], chans[1:]):
                layers += _deconv_block(a, b)
            # the last upsampling step outputs the spectrogram itself: no norm, no activation (values are z-scores)
            layers.append(nn.ConvTranspose2d(chans[-1], 1, 4, stride=2, padding=1))
            self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        z = z if c is None else torch.cat([z, c], dim=1)
        if self.cfg.arch == "dense":
            return self.body(z).view(-1, self.cfg.n_freq, self.cfg.n_frames)
        h = self.stem(z).view(-1, *self.grid)  # (B, C, F/16, T/16)
        return self.body(h).squeeze(1)  # (B, F, T)


def corrupt(x: torch.Tensor, noise_std: float) -> torch.Tensor:
    """Denoising input: Gaussian noise plus one masked band of up to 16 bins per item (train mode only)."""
    B, F, _ = x.shape
    out = x + noise_std * torch.randn_like(x)
    start = torch.randint(0, F - 16, (B,), device=x.device)
    width = torch.randint(0, 17, (B,), device=x.device)
    bins = torch.arange(F, device=x.device)[None, :]
    mask = (bins >= start[:, None]) & (bins < (start + width)[:, None])
    return out.masked_fill(mask[:, :, None], 0.0)


class Autoencoder(nn.Module):
    input_kind = "logmag"
    val_metric = "recon_mse"

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg, cfg.latent_dim)
        self.decoder = Decoder(cfg, cfg.latent_dim)

    def encode(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)  # (B, latent_dim)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)  # (B, F, T)

    def reconstruct(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, cond), cond)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int = 0) -> dict:
        noisy = corrupt(x, self.cfg.noise_std) if self.training and self.cfg.noise_std > 0 else x
        mse = (self.decode(self.encode(noisy, cond), cond) - x).pow(2).mean()
        return {"loss": mse, "recon_mse": mse}
