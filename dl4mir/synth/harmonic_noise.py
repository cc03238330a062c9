"""Harmonic plus noise (DDSP, Engel et al. 2020): a sum of harmonics of f0 and filtered noise.

    y(t) = A(t) · Σ_k c_k(t) · sin(2π k φ(t))  +  noise filtered by H(f, t)

``φ`` is the phase of f0 (cycles, float64); ``c_k`` the harmonic distribution, with every harmonic at or above
Nyquist set to 0 and the rest normalized to sum 1, so the overall amplitude ``A`` is the harmonics' summed
amplitude whatever the pitch; ``H`` are the noise's gains in equally spaced bands from 0 Hz to Nyquist, applied
by frequency sampling (:func:`dl4mir.synth.dsp.framewise_fir`).  Reverb (DDSP's optional learned impulse
response) is left out.
"""
from __future__ import annotations

import torch

from dl4mir.synth.dsp import as_signal, framewise_fir, phase_cycles, upsample

ANCHOR = 16  # harmonics between exact sines in the Chebyshev recursion (bounds its float32 error to ~1e-4)


def harmonic(*, f0_hz, amplitude, distribution: torch.Tensor, sample_rate: float, n_samples: int,
             phase: torch.Tensor | None = None) -> torch.Tensor:
    """``(B, n_samples)`` harmonics of ``f0_hz`` (``(B,)`` or ``(B, frames | n)``): ``amplitude`` ``(B,)`` or
    ``(B, frames | n)``, ``distribution`` ``(B, H)`` or ``(B, H, frames)`` non-negative weights of harmonics
    1 … H; ``phase`` ``(B,)`` f0's phase (cycles) at the first sample, default 0 (a stream's next block).

    ``sin(kθ)`` comes from the Chebyshev recursion ``sin(kθ) = 2 cos θ · sin((k−1)θ) − sin((k−2)θ)``, restarted
    from exact sines every :data:`ANCHOR` harmonics: two multiply-adds per harmonic and sample instead of a sine."""
    dtype = distribution.dtype
    B, H = distribution.shape[:2]
    f0 = torch.as_tensor(f0_hz, dtype=dtype, device=distribution.device)
    steady = f0.ndim <= 1 and distribution.ndim == 2  # one pitch and one spectrum per note: per-row weights
    f0_signal = as_signal(f0, n_samples, like=distribution)
    cycles = phase_cycles(f0.expand(B) if f0.ndim <= 1 else f0_signal, sample_rate, start=phase, n_samples=n_samples)
    theta = (2 * torch.pi * cycles).to(dtype)  # wrapped: exact in float32 too
    two_cos = 2 * torch.cos(theta)
    pitch = f0.expand(B)[:, None] if steady else f0_signal

    def weight(k: int) -> torch.Tensor:  # (B, 1) or (B, n): the k-th weight, 0 at or above Nyquist
        w = distribution[:, k - 1:k] if distribution.ndim == 2 else upsample(distribution[:, k - 1], n_samples)
        return w * (k * pitch < sample_rate / 2)

    out = torch.zeros_like(theta)
    norm = torch.zeros_like(pitch) if steady else torch.zeros_like(theta)
    for first in range(1, H + 1, ANCHOR):
        # previous, current hold sign_p · sin((k−2)θ), sign_c · sin((k−1)θ): one fused multiply-add per step,
        # previous + v · 2cos θ · current with v = −sign_p / sign_c, is −sign_p · sin(kθ)
        previous, current = torch.sin((first - 1) * theta), torch.sin(first * theta)
        sign_p = sign_c = 1.0
        for k in range(first, min(H, first + ANCHOR - 1) + 1):
            if k > first:
                previous, current = current, torch.addcmul(previous, two_cos, current, value=-sign_p / sign_c)
                sign_p, sign_c = sign_c, -sign_p
            w = weight(k)
            norm = norm + w
            out.addcmul_(w * sign_c, current)  # in place: autograd keeps w and current, never out
    return as_signal(amplitude, n_samples, like=distribution) * out / norm.clamp_min(1e-7)


def filtered_noise(*, magnitudes: torch.Tensor, n_samples: int, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
    """``(B, n_samples)`` white noise (uniform in ±1) through gains ``magnitudes`` ``(B, bands, frames)`` in
    equally spaced bands from 0 Hz to Nyquist (DDSP's filtered noise)."""
    B = magnitudes.shape[0]
    noise = torch.rand(B, n_samples, generator=generator, dtype=magnitudes.dtype).to(magnitudes.device) * 2 - 1
    return framewise_fir(noise, magnitudes.transpose(1, 2))


def harmonic_noise(*, f0_hz, amplitude, distribution, noise_magnitudes, sample_rate: float, n_samples: int,
                   generator: torch.Generator | None = None, phase: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`harmonic` + :func:`filtered_noise`: the HpN synthesizer DDSP's decoder drives."""
    return (harmonic(f0_hz=f0_hz, amplitude=amplitude, distribution=distribution, sample_rate=sample_rate,
                     n_samples=n_samples, phase=phase)
            + filtered_noise(magnitudes=noise_magnitudes, n_samples=n_samples, generator=generator))
