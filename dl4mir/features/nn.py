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
from dl4mir.errors import ParameterError

__all__ = ["STFT", "MelSpectrogram", "PowerToDB", "LogMel", "MFCC"]


def _float32(x: torch.Tensor):
    """Autocast off: features are preprocessing, and bf16/fp16 mel energies and logs lose the quiet bands."""
    if x.device.type in ("cuda", "cpu"):
        return torch.autocast(device_type=x.device.type, enabled=False)
    return contextlib.nullcontext()


class STFT(nn.Module):
    """``|STFT|**power`` (``power=None``: the complex STFT), ``(..., 1 + n_fft // 2, frames)``.

    Frames are cut with ``unfold`` and transformed with ``rfft`` so the spectrum comes out contiguous as
    ``(..., frames, freq)``; the returned ``(..., freq, frames)`` is a transposed view of it.
    """

    def __init__(self, *, n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                 center: bool = True, pad_mode: str = "constant", power: float | None = 1.0):
        super().__init__()
        self.n_fft, self.hop_length, self.center, self.pad_mode, self.power = n_fft, hop_length, center, pad_mode, power
        self.register_buffer("window", torch.as_tensor(F._window(n_fft, win_length), dtype=torch.float32),
                             persistent=False)

    def frames_spectrum(self, y: torch.Tensor) -> torch.Tensor:
        """Complex spectrum ``(..., frames, freq)``, contiguous."""
        with _float32(y):
            y = y.float()
            if self.center:
                pad = self.n_fft // 2
                if self.pad_mode == "constant":
                    y = torch.nn.functional.pad(y, (pad, pad))
                else:  # reflect/replicate need a (batch, channel, time) view
                    lead = y.shape[:-1]
                    y = torch.nn.functional.pad(y.reshape(-1, 1, y.shape[-1]), (pad, pad), mode=self.pad_mode)
                    y = y.reshape(*lead, y.shape[-1])
            if y.shape[-1] < self.n_fft:
                raise ParameterError(f"signal of {y.shape[-1]} samples is shorter than n_fft={self.n_fft}")
            return torch.fft.rfft(y.unfold(-1, self.n_fft, self.hop_length) * self.window)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        spec = self.frames_spectrum(y)
        if self.power is not None:
            spec = _power(spec) if self.power == 2 else spec.abs().pow(self.power)
        return spec.transpose(-1, -2)


def _power(spec: torch.Tensor) -> torch.Tensor:
    # |z|² without the square root that abs() would take and pow(2) undo
    return spec.real.square() + spec.imag.square()


# On a CPU the mel pipeline is memory-bound: a batch's spectrum (≈0.5 MB a clip for 2 s at 16 kHz) is far larger
# than the caches.  Working through chunks of about this many bytes of spectrum keeps each step in cache.
_CPU_CHUNK_BYTES = 4 << 20


class MelSpectrogram(nn.Module):
    """Power mel spectrogram ``(..., n_mels, frames)``, Slaney scale and norm by default (as the numpy API)."""

    def __init__(self, *, sr: float = 22050, n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                 n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                 norm: str | None = "slaney", power: float = 2.0, center: bool = True, pad_mode: str = "constant"):
        super().__init__()
        self.power = power
        self.stft = STFT(n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center,
                         pad_mode=pad_mode, power=None)
        fb = torch.as_tensor(F.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                                              norm=norm))
        self.register_buffer("mel_basis", fb, persistent=False)  # (M, F)
        # Each filter weight twice, for the (real, imag) pairs of view_as_real: mel = Σ w·(re² + im²) as matmuls.
        # A bin feeds at most two triangles, so a dense (2F, M) product is mostly zeros: cut the frequency axis
        # into blocks and multiply each only by the bands that overlap it (≈15 % of the dense work for 8 blocks).
        fb_ri = fb.T.repeat_interleave(2, dim=0)  # (2F, M)
        self._blocks = []
        edges = torch.linspace(0, fb_ri.shape[0], 9).long().tolist()
        for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
            a, b = a - a % 2, b - b % 2 if b < fb_ri.shape[0] else b
            bands = torch.nonzero(fb_ri[a:b].sum(0) > 0).flatten()
            if len(bands):
                m0, m1 = int(bands.min()), int(bands.max()) + 1
                self.register_buffer(f"mel_block{k}", fb_ri[a:b, m0:m1].contiguous(), persistent=False)
                self._blocks.append((a, b, m0, m1, f"mel_block{k}"))
        self.n_mels = n_mels

    def _mel(self, y: torch.Tensor) -> torch.Tensor:
        spec = self.stft.frames_spectrum(y)  # (B, T, F) complex
        if self.power != 2:
            return torch.matmul(spec.abs().pow(self.power), self.mel_basis.T)
        ri = torch.view_as_real(spec)  # (B, T, F, 2)
        ri = (ri.square() if ri.requires_grad else ri.square_()).flatten(-2)  # (B, T, 2F); in place: spec is ours
        mel = ri.new_zeros(*ri.shape[:-1], self.n_mels)  # (B, T, M)
        for a, b, m0, m1, name in self._blocks:
            mel[..., m0:m1] += ri[..., a:b] @ getattr(self, name)
        return mel

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        lead, flat = y.shape[:-1], y.reshape(-1, y.shape[-1])
        with _float32(y):
            if y.device.type == "cpu" and flat.shape[0] > 1:
                per_item = (flat.shape[-1] // self.stft.hop_length + 1) * (self.stft.n_fft // 2 + 1) * 8
                chunk = max(1, _CPU_CHUNK_BYTES // per_item)
                mel = torch.cat([self._mel(c) for c in flat.split(chunk)])
            else:
                mel = self._mel(flat)
        return mel.transpose(-1, -2).reshape(*lead, mel.shape[-1], mel.shape[-2])


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
