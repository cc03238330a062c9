"""The Sound of Pixels (Zhao et al. 2018): learn to separate sounds, and to find which pixels make them, from
unlabelled videos by *mix-and-separate*.

Training takes N solo videos, adds their sounds, and asks the network to recover each video's sound from the
mixture given that video's frames.  Nobody labels anything: the videos supervise themselves.  Three parts:

- **video network**: a small strided CNN on ``n_frames_in`` frames (112², max-pooled over time) giving ``k``
  sigmoid features per pixel of a 14 × 14 grid ``(B, k, 14, 14)``; for training they are max-pooled over space
  into one vector per video;
- **audio network**: a U-Net on the mixture's log-magnitude STFT, resampled onto a log-frequency axis (Sound of
  Pixels' warp, which gives low notes as many bins as high ones), producing ``k`` feature maps ``(B, k, F, T)``;
- **synthesizer**: a mask per video, ``sigmoid(Σ_k α_k v_k S_k + β)``, an inner product of the video vector and the
  audio maps.  The mask is a **ratio** mask (target ``|S_n| / |S_mix|``, L1) or a **binary** one (target: ``S_n`` is the
  loudest source in the bin, binary cross-entropy), both weighted by ``log1p |S_mix|`` so silent bins count little.

The estimate is the mask, warped back to linear frequency, times the mixture's STFT, inverted with the mixture's
phase.  Applied at every pixel instead of the pooled vector, the same synthesizer says how much of the mixture each
pixel accounts for: the localization map (:meth:`SoundOfPixels.pixel_energy`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dl4mir.errors import ParameterError

MASKS = ("ratio", "binary")


@dataclass
class SoundOfPixelsConfig:
    sample_rate: int = 11025  # the data says (SceneClips.input_shape)
    n_samples: int = 33075
    crop_samples: int = 11025  # training mixtures are 1 s crops (a third of the cost); separation runs on any length
    frame_size: int = 112
    n_frames_in: int = 3  # frames per video, max-pooled over time (Sound of Pixels: 3)
    n_fft: int = 1022  # 512 bins 10.8 Hz apart (Sound of Pixels' STFT)
    hop_length: int = 512  # 46 ms (Sound of Pixels: 256 at 11 kHz; twice the hop, half the U-Net's work)
    n_log_freq: int = 128  # bins of the log-frequency axis the U-Net sees
    k: int = 16  # features shared by the two networks
    unet_channels: tuple = (8, 16, 32, 64)
    vision_channels: tuple = (16, 32)  # two stride-2 layers after the 2 × 2 average: one feature per 8 × 8 pixels
    frame_downsample: int = 2  # frames averaged 2 × 2 first: sprites of 30–50 px stay recognizable at a quarter the cost
    mask: str = "ratio"  # or "binary"

    def __post_init__(self):
        if self.mask not in MASKS:
            raise ParameterError(f"mask {self.mask!r} is not one of {', '.join(MASKS)}")
        if self.frame_size % 8:
            raise ParameterError(f"frame_size {self.frame_size} must be a multiple of 8")


def log_frequency_warp(n_lin: int, n_log: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(to_log (n_log, n_lin), to_lin (n_lin, n_log))``: linear interpolation between the STFT's bins and
    log-spaced positions from bin 1 to the last, and back."""

    def interp(positions: np.ndarray, n_src: int) -> np.ndarray:
        w = np.zeros((len(positions), n_src))
        lo = np.clip(np.floor(positions).astype(int), 0, n_src - 2)
        frac = np.clip(positions - lo, 0, 1)
        w[np.arange(len(positions)), lo] = 1 - frac
        w[np.arange(len(positions)), lo + 1] += frac
        return w

    log_pos = np.geomspace(1, n_lin - 1, n_log)  # position of each log bin on the linear axis
    to_log = interp(log_pos, n_lin)
    lin_pos = np.interp(np.arange(n_lin), log_pos, np.arange(n_log))  # and of each linear bin on the log axis
    to_lin = interp(lin_pos, n_log)
    return torch.tensor(to_log, dtype=torch.float32), torch.tensor(to_lin, dtype=torch.float32)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class UNet(nn.Module):
    """Log-magnitude spectrogram ``(B, 1, F, T)`` → ``k`` maps ``(B, k, F, T)``; T is padded to a multiple of
    ``2 ** (levels - 1)`` inside and cropped back."""

    def __init__(self, channels: tuple, k: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(1)
        self.down = nn.ModuleList()
        c_in = 1
        for c in channels:
            self.down.append(_block(c_in, c))
            c_in = c
        self.up = nn.ModuleList(_block(channels[i + 1] + channels[i], channels[i])
                                for i in reversed(range(len(channels) - 1)))
        self.out = nn.Conv2d(channels[0], k, 1)
        self.factor = 2 ** (len(channels) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[-1]
        x = F.pad(self.norm(x), (0, (-T) % self.factor))
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = block(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="nearest"), skip], dim=1))
        return self.out(x)[..., :T]


class VisionNet(nn.Module):
    """Frames ``(B, n_frames, 3, H, W)`` in [0, 1] → per-pixel features ``(B, k, H/8, W/8)`` (in (0, 1) with
    ``sigmoid``, as Sound of Pixels; raw for an embedding)."""

    def __init__(self, channels: tuple, k: int, downsample: int = 1, sigmoid: bool = True):
        super().__init__()
        self.sigmoid = sigmoid
        layers, c_in = ([nn.AvgPool2d(downsample)] if downsample > 1 else []), 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
            c_in = c
        # a dilated layer widens the view to a whole sprite (≈ 40 px) without losing the 8-px grid
        layers += [nn.Conv2d(c_in, c_in, 3, padding=2, dilation=2, bias=False), nn.BatchNorm2d(c_in), nn.ReLU(),
                   nn.Conv2d(c_in, k, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        B, n = frames.shape[:2]
        h = self.net(frames.flatten(0, 1) - 0.5)  # (B·n, k, h, w)
        h = h.unflatten(0, (B, n)).amax(dim=1)  # max over time -> (B, k, h, w)
        return torch.sigmoid(h) if self.sigmoid else h


class SoundOfPixels(nn.Module):
    input_kind = "scenes"
    default_task = "scenes"
    val_metric = "loss"

    def __init__(self, cfg: SoundOfPixelsConfig):
        super().__init__()
        self.cfg = cfg
        self.audio_net = UNet(tuple(cfg.unet_channels), cfg.k)
        self.vision_net = VisionNet(tuple(cfg.vision_channels), cfg.k, cfg.frame_downsample)
        self.alpha = nn.Parameter(torch.ones(cfg.k) / cfg.k)  # the synthesizer's per-feature scale and bias
        self.beta = nn.Parameter(torch.zeros(()))
        to_log, to_lin = log_frequency_warp(cfg.n_fft // 2 + 1, cfg.n_log_freq)
        self.register_buffer("to_log", to_log, persistent=False)
        self.register_buffer("to_lin", to_lin, persistent=False)
        self.register_buffer("window", torch.hann_window(cfg.n_fft), persistent=False)

    # -- the pieces -------------------------------------------------------------------------------------------
    def stft(self, y: torch.Tensor) -> torch.Tensor:  # (..., n) -> complex (..., F_lin, T)
        shape = y.shape[:-1]
        X = torch.stft(y.reshape(-1, y.shape[-1]).float(), self.cfg.n_fft, self.cfg.hop_length, window=self.window,
                       return_complex=True)
        return X.reshape(*shape, *X.shape[-2:])

    def istft(self, X: torch.Tensor, length: int) -> torch.Tensor:  # complex (..., F_lin, T) -> (..., n)
        shape = X.shape[:-2]
        y = torch.istft(X.reshape(-1, *X.shape[-2:]), self.cfg.n_fft, self.cfg.hop_length, window=self.window,
                        length=length)
        return y.reshape(*shape, length)

    def to_log_freq(self, mag: torch.Tensor) -> torch.Tensor:  # (..., F_lin, T) -> (..., F_log, T)
        return torch.einsum("lf,...ft->...lt", self.to_log, mag)

    def audio_features(self, mix_log_mag: torch.Tensor) -> torch.Tensor:  # (B, F_log, T) -> (B, k, F_log, T)
        return self.audio_net(torch.log(mix_log_mag + 1e-4).unsqueeze(1))

    def visual_features(self, frames: torch.Tensor) -> torch.Tensor:  # uint8 (B, n, 3, H, W) -> (B, k, h, w)
        return self.vision_net(frames.float() / 255.0)

    def mask_logits(self, v: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
        """``v`` (B, k) and ``S`` (B, k, F, T) → logits (B, F, T)."""
        return torch.einsum("bk,bkft->bft", v * self.alpha, S) + self.beta

    # -- training: mix and separate ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, y: torch.Tensor, step=None) -> dict:
        """``x``: frames uint8 (B, N, n_frames, 3, H, W) of N videos; ``y``: their sounds (B, N, n)."""
        B, N = y.shape[:2]
        mags = self.to_log_freq(self.stft(y).abs())  # (B, N, F, T)
        mix = self.to_log_freq(self.stft(y.sum(dim=1)).abs())  # (B, F, T)
        S = self.audio_features(mix)
        v = self.visual_features(x.flatten(0, 1)).amax(dim=(2, 3)).unflatten(0, (B, N))  # (B, N, k)
        logits = torch.stack([self.mask_logits(v[:, n], S) for n in range(N)], dim=1)  # (B, N, F, T)
        weight = torch.clamp(torch.log1p(mix), 1e-3, 10).unsqueeze(1).expand_as(logits)
        if self.cfg.mask == "binary":
            target = (mags >= mags.amax(dim=1, keepdim=True)).float()
            loss = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
        else:
            target = torch.clamp(mags / (mix.unsqueeze(1) + 1e-8), 0, 1)
            loss = (weight * (torch.sigmoid(logits) - target).abs()).mean()
        return {"loss": loss}

    # -- use ---------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def separate_with(self, v: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """The mixture ``mix`` (B, n) split by visual vectors ``v`` (B, N, k) into ``(B, N, n)``."""
        X = self.stft(mix)  # (B, F_lin, T)
        S = self.audio_features(self.to_log_freq(X.abs()))
        masks = torch.stack([torch.sigmoid(self.mask_logits(v[:, n], S)) for n in range(v.shape[1])], dim=1)
        if self.cfg.mask == "binary":
            masks = (masks > 0.5).float()
        lin = torch.einsum("fl,bnlt->bnft", self.to_lin, masks).clamp(0, 1)
        return self.istft(lin * X.unsqueeze(1), mix.shape[-1])

    @torch.no_grad()
    def separate(self, frames: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """Each of N videos' sound from their mixture: ``frames`` uint8 (B, N, n_frames, 3, H, W), ``mix`` (B, n)
        → ``(B, N, n)``."""
        B, N = frames.shape[:2]
        v = self.visual_features(frames.flatten(0, 1)).amax(dim=(2, 3)).unflatten(0, (B, N))
        return self.separate_with(v, mix)

    @torch.no_grad()
    def pixel_energy(self, frames: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """How much of the mixture's energy each pixel's mask keeps, ``(B, h, w)`` in [0, 1]: the map of where the
        sound comes from.  ``frames`` uint8 (B, n_frames, 3, H, W), ``mix`` (B, n)."""
        mag = self.to_log_freq(self.stft(mix).abs())  # (B, F, T)
        S = self.audio_features(mag)
        v = self.visual_features(frames)  # (B, k, h, w)
        logits = torch.einsum("bkhw,bkft->bhwft", v * self.alpha[:, None, None], S) + self.beta
        w = mag / mag.sum(dim=(1, 2), keepdim=True).clamp_min(1e-12)
        return torch.einsum("bhwft,bft->bhw", torch.sigmoid(logits), w)
