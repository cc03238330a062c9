"""Torch twins of the functional features: same names, same defaults, batched, on CPU or CUDA.

Input ``(..., n)`` float waveforms; outputs ``(..., freq, frames)`` as in :mod:`dl4mir.features.spectral`,
which the tests hold them to.  Fixed kernels (window, mel filters, DCT) are buffers, so ``.to(device)`` moves
them.  Features always compute in float32, also inside an autocast region.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from dl4mir.features import spectral as F

__all__ = ["STFT", "MelSpectrogram", "PowerToDB", "LogMel", "MFCC"]


def _float32(x: torch.Tensor):
    """Autocast off: features are preprocessing, and bf16/fp16 mel energies and logs lose the quiet bands."""
    if x.device.type in ("cuda", "cpu"):
        return torch.autocast(device_type=x.device.type, enabled=False)
    return contextlib.nullcontext()


class STFT(nn.Module):
    """``|STFT|**power`` (``power=None``: the complex STFT), ``(..., 1 + n_fft // 2, frames)``."""

    def __init__(self, *, n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                 center: bool = True, pad_mode: str = "constant", power: float | None = 1.0):
        super().__init__()
        self.n_fft, self.hop_length, self.center, self.pad_mode, self.power = n_fft, hop_length, center, pad_mode, power
        self.register_buffer("window", torch.as_tensor(F._window(n_fft, win_length), dtype=torch.float32),
                             persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        lead = y.shape[:-1]
        with _float32(y):
            spec = torch.stft(y.reshape(-1, y.shape[-1]).float(), n_fft=self.n_fft, hop_length=self.hop_length,
                              window=self.window, center=self.center, pad_mode=self.pad_mode, return_complex=True)
        spec = spec.reshape(*lead, *spec.shape[-2:])
        if self.power is None:
            return spec
        mag = spec.abs()
        return mag if self.power == 1 else mag.pow(self.power)


class MelSpectrogram(nn.Module):
    """Power mel spectrogram ``(..., n_mels, frames)``, Slaney scale and norm by default (as the numpy API)."""

    def __init__(self, *, sr: float = 22050, n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                 n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                 norm: str | None = "slaney", power: float = 2.0, center: bool = True, pad_mode: str = "constant"):
        super().__init__()
        self.stft = STFT(n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center,
                         pad_mode=pad_mode, power=power)
        fb = F.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
        self.register_buffer("mel_basis", torch.as_tensor(fb), persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        with _float32(y):
            return torch.matmul(self.mel_basis, self.stft(y))  # (M, F) @ (..., F, T) -> (..., M, T)


class PowerToDB(nn.Module):
    """``10·log10(max(S, amin)/ref)`` floored ``top_db`` below each item's own maximum."""

    def __init__(self, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0):
        super().__init__()
        self.ref, self.amin, self.top_db = ref, amin, top_db

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        S = S.float()
        db = 10.0 * torch.log10(S.clamp_min(self.amin)) - 10.0 * torch.log10(torch.tensor(max(self.amin, self.ref)))
        if self.top_db is not None:
            peak = db.amax(dim=(-2, -1), keepdim=True)
            db = torch.maximum(db, peak - self.top_db)
        return db


class LogMel(nn.Module):
    """``PowerToDB(MelSpectrogram(y))``: the log-mel input the course's networks take."""

    def __init__(self, *, top_db: float | None = 80.0, **mel_kwargs):
        super().__init__()
        self.mel = MelSpectrogram(**mel_kwargs)
        self.to_db = PowerToDB(top_db=top_db)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.to_db(self.mel(y))


class MFCC(nn.Module):
    """Orthonormal DCT-II of the log-mel spectrogram, first ``n_mfcc`` rows: ``(..., n_mfcc, frames)``."""

    def __init__(self, *, sr: float = 22050, n_mfcc: int = 20, n_mels: int = 128, lifter: float = 0,
                 top_db: float | None = 80.0, **mel_kwargs):
        super().__init__()
        self.log_mel = LogMel(sr=sr, n_mels=n_mels, top_db=top_db, **mel_kwargs)
        dct = torch.as_tensor(F.dct_matrix(n_mfcc, n_mels))
        if lifter > 0:
            k = torch.arange(1, n_mfcc + 1, dtype=torch.float32)[:, None]
            dct = dct * (1 + (lifter / 2) * torch.sin(torch.pi * k / lifter))
        self.register_buffer("dct", dct, persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        with _float32(y):
            return torch.matmul(self.dct, self.log_mel(y))
