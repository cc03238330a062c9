"""Pseudo-quadrature mirror filters (PQMF): a waveform split into ``M`` critically sampled frequency bands and put
back together almost perfectly, as RAVE does before its encoder and after its decoder (Nguyen 1994; the cosine-
modulated filter bank of Vaidyanathan's "Multirate Systems and Filter Banks", ch. 8).

* **Prototype**: a Kaiser-windowed lowpass of ``N = taps_per_phase · M`` taps whose cutoff is tuned until the
  prototype convolved with its time reverse is a Nyquist(2M) filter (zero at every nonzero multiple of 2M): the
  condition under which the aliasing between neighbouring bands cancels and the bank reconstructs its input.
* **Bands**: ``h_k[n] = 2·h[n]·cos((2k+1)·π/(2M)·(n − (N−1)/2) ± π/4)``, ``+`` for the analysis and ``−`` for the
  synthesis of even bands (the other way round for odd ones).
* **Polyphase implementation**: the signal is folded into frames of ``M`` samples and each filter into ``M`` phases
  of ``N/M`` taps, so analysis and synthesis are one ``M → M`` convolution at the band rate each — ``N`` multiply-
  adds per input sample instead of ``N·M``.  Both convolutions are causal: the bank streams block by block with a
  cache of ``N/M − 1`` frames and delays the signal by ``delay = N − M`` samples.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.signal import firwin, kaiser_beta
from torch import nn

from dl4mir.errors import ParameterError


def prototype(n_bands: int, *, taps_per_phase: int = 16, attenuation_db: float = 100.0) -> np.ndarray:
    """The lowpass prototype ``(N,)``, ``N = taps_per_phase · n_bands``, cutoff near ``π / (2·n_bands)``
    (``1 / (2·n_bands)`` in firwin's units of the Nyquist frequency)."""
    n_taps = taps_per_phase * n_bands
    beta = kaiser_beta(attenuation_db)

    def alias(cutoff: float) -> float:  # the largest deviation from a Nyquist(2M) filter
        h = firwin(n_taps, cutoff, window=("kaiser", beta), scale=False)
        g = np.convolve(h, h[::-1])
        center = len(g) // 2
        k = np.arange(1, center // (2 * n_bands) + 1) * 2 * n_bands
        return float(np.abs(np.concatenate([g[center + k], g[center - k]])).max() / g[center])

    best = minimize_scalar(alias, bounds=(0.25 / n_bands, 0.75 / n_bands), method="bounded",
                           options={"xatol": 1e-9})
    h = firwin(n_taps, best.x, window=("kaiser", beta), scale=False)
    return h / np.sqrt(np.sum(h ** 2) * 2 * n_bands)  # each band then carries its share of the power


def filter_bank(h: np.ndarray, n_bands: int) -> tuple[np.ndarray, np.ndarray]:
    """Analysis and synthesis filters ``(M, N)`` cosine-modulated from the prototype."""
    n = np.arange(len(h)) - (len(h) - 1) / 2
    k = np.arange(n_bands)[:, None]
    phase = (-1.0) ** k * np.pi / 4
    arg = (2 * k + 1) * np.pi / (2 * n_bands) * n
    return 2 * h * np.cos(arg + phase), 2 * h * np.cos(arg - phase)


class CausalPad(nn.Module):
    """The left context a causal convolution needs: ``size`` zero frames, or — with ``streaming = True`` — the last
    ``size`` frames of the previous call, so a signal fed in blocks is convolved exactly as if fed whole.
    ``causal=False`` pads both sides instead (a centred convolution, which cannot stream)."""

    def __init__(self, channels: int, size: int, *, causal: bool = True):
        super().__init__()
        self.size, self.causal, self.streaming = size, causal, False
        self.register_buffer("cache", torch.zeros(1, channels, size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.streaming:
            if self.cache.shape[0] != x.shape[0]:
                self.cache = torch.zeros(x.shape[0], x.shape[1], self.size, dtype=x.dtype, device=x.device)
            x = torch.cat([self.cache.to(x.dtype), x], dim=2)
            # in place: torch.export records in-place buffer updates as state, and ignores reassignments
            self.cache.copy_(x[:, :, x.shape[2] - self.size:].detach())
            return x
        if self.causal:
            return nn.functional.pad(x, (self.size, 0))
        return nn.functional.pad(x, (self.size // 2, self.size - self.size // 2))

    def reset(self) -> None:
        """Forget the cached past (a new stream starts)."""
        self.cache = torch.zeros_like(self.cache[:1])


class PQMF(nn.Module):
    """``analysis``: ``(B, 1, T)`` → ``(B, M, T/M)``; ``synthesis``: back to ``(B, 1, T)``, delayed by
    :attr:`delay` samples.  ``T`` must be a multiple of ``M``.  Streaming (its two :class:`CausalPad` set to
    ``streaming``) each call continues the previous one (the last ``N/M − 1`` frames are cached), so a signal fed
    in blocks gives the same bands and output as fed whole."""

    def __init__(self, n_bands: int = 16, *, taps_per_phase: int = 16, attenuation_db: float = 100.0):
        super().__init__()
        if n_bands < 2 or n_bands & (n_bands - 1):
            raise ParameterError(f"PQMF n_bands must be a power of two >= 2, got {n_bands}")
        self.n_bands, self.taps_per_phase = n_bands, taps_per_phase
        self.delay = (taps_per_phase - 1) * n_bands
        analysis, synthesis = filter_bank(prototype(n_bands, taps_per_phase=taps_per_phase,
                                                    attenuation_db=attenuation_db), n_bands)
        M, L = n_bands, taps_per_phase
        # analysis, phase r: y_k[m] = sum_q h_k[qM + r] · x[(m − q)M + M − 1 − r]; conv1d correlates, so the taps
        # are flipped.  weight[k, r, j] = h_k[(L − 1 − j)M + r]
        e = analysis.reshape(M, L, M).transpose(0, 2, 1)[:, :, ::-1]
        # synthesis, phase s: x[pM + s] = M · sum_k sum_q g_k[qM + s] · y_k[p − q]
        f = (M * synthesis).reshape(M, L, M).transpose(2, 0, 1)[:, :, ::-1]
        self.register_buffer("analysis_weight", torch.tensor(e.copy(), dtype=torch.float32))
        self.register_buffer("synthesis_weight", torch.tensor(f.copy(), dtype=torch.float32))
        self.analysis_context, self.synthesis_context = CausalPad(M, L - 1), CausalPad(M, L - 1)

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        B, _, T = x.shape
        if T % self.n_bands:
            raise ParameterError(f"PQMF: signal length {T} is not a multiple of {self.n_bands} bands")
        frames = x.reshape(B, T // self.n_bands, self.n_bands).flip(2).transpose(1, 2)  # (B, M phases, T/M)
        return nn.functional.conv1d(self.analysis_context(frames), self.analysis_weight.to(x.dtype))

    def synthesis(self, bands: torch.Tensor) -> torch.Tensor:
        phases = nn.functional.conv1d(self.synthesis_context(bands), self.synthesis_weight.to(bands.dtype))
        return phases.transpose(1, 2).reshape(bands.shape[0], 1, -1)  # (B, M phases, T/M) interleaved


def reconstruction_snr_db(x: torch.Tensor, bank: PQMF) -> float:
    """SNR of ``synthesis(analysis(x))`` against ``x`` (the bank's delay taken out), in dB."""
    y = bank.synthesis(bank.analysis(x))
    d = bank.delay
    ref, est = x[..., : x.shape[-1] - d], y[..., d:]
    return float(10 * math.log10(float((ref ** 2).sum()) / max(float(((ref - est) ** 2).sum()), 1e-30)))
