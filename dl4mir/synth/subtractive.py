"""Subtractive synthesis (the analogue polysynth's signal path): band-limited sawtooth and pulse oscillators,
mixed, through a resonant two-pole low-pass whose cutoff an envelope sweeps.

Oscillators: naive waveforms with their jumps rounded by PolyBLEP residuals (:func:`dl4mir.synth.dsp.poly_blep`);
a pulse of width ``w`` is a sawtooth minus the same sawtooth delayed by ``w`` of a cycle.

Filter: the magnitude response of the RBJ cookbook's biquad low-pass (Bristow-Johnson),

    |H(ω)| = |b0 + b1 z⁻¹ + b2 z⁻²| / |a0 + a1 z⁻¹ + a2 z⁻²|,  z = e^{jω},
    b0 = b2 = (1 − cos ω0)/2, b1 = 1 − cos ω0, a0 = 1 + α, a1 = −2 cos ω0, a2 = 1 − α, α = sin ω0 / (2Q),

evaluated frame by frame at the frame's cutoff and applied by frequency sampling (linear phase, not the biquad's
own phase; a sample-by-sample IIR recursion would be a Python loop in torch).  At the cutoff ``|H(ω0)| = Q``:
with ``resonance = 0`` (Q = 1/√2, Butterworth) that is −3.01 dB; ``resonance = 1`` is Q = 8 (+18 dB).  The
256-sample impulse responses resolve 62.5 Hz at 16 kHz: a resonant peak narrower than about two of those
(cutoff / Q < 125 Hz, i.e. below ≈ 1 kHz at full resonance) comes out lower than Q.
"""
from __future__ import annotations

import math

import torch

from dl4mir.synth.dsp import FILTER_HOP, as_signal, framewise_fir, phase_cycles, poly_blep, upsample

Q_MIN, Q_MAX = 1 / math.sqrt(2), 8.0
FILTER_BINS = 129  # gains from 0 Hz to Nyquist per response: 256-sample impulse responses


def saw(cycles: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
    """Band-limited rising sawtooth in ±1 at phase ``cycles`` (in [0, 1)) with phase increment ``dt``."""
    return 2 * cycles - 1 - poly_blep(cycles, dt)


def oscillator(*, f0_hz, saw_level, pulse_level, pulse_width, sample_rate: float, n_samples: int,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``(B, n_samples)``: ``saw_level`` × sawtooth + ``pulse_level`` × pulse, low for ``pulse_width`` of each
    cycle (0.5: a square wave in ±1), both without DC.  Controls ``(B,)`` or ``(B, frames | n)``."""
    like = torch.empty(0, dtype=dtype, device=torch.as_tensor(saw_level).device)
    steady = torch.as_tensor(f0_hz, dtype=dtype, device=like.device)
    f0 = as_signal(steady, n_samples, like=like)
    steady = steady.expand(len(f0)) if steady.ndim <= 1 else f0  # a steady pitch's phase is cheaper
    cycles = phase_cycles(steady, sample_rate, n_samples=n_samples).to(dtype)
    dt = f0 / sample_rate
    width = as_signal(pulse_width, n_samples, like=like)
    shifted = cycles - width
    shifted = shifted - torch.floor(shifted)
    rising = saw(cycles, dt)
    pulse = rising - saw(shifted, dt)  # 2w − 2 for w of each cycle, 2w for the rest: zero mean
    return as_signal(saw_level, n_samples, like=like) * rising + as_signal(pulse_level, n_samples, like=like) * pulse


def lowpass_response(cutoff_hz: torch.Tensor, resonance: torch.Tensor, *, sample_rate: float,
                     bins: int = FILTER_BINS) -> torch.Tensor:
    """``|H|`` of the RBJ low-pass at ``bins`` frequencies from 0 Hz to Nyquist, for cutoffs and resonances of any
    common shape ``(...)`` → ``(..., bins)``."""
    cutoff_hz, resonance = torch.broadcast_tensors(torch.as_tensor(cutoff_hz), torch.as_tensor(resonance))
    w0 = 2 * math.pi * cutoff_hz.clamp(10.0, 0.49 * sample_rate) / sample_rate
    q = Q_MIN + (Q_MAX - Q_MIN) * resonance.clamp(0.0, 1.0) ** 2
    alpha = torch.sin(w0) / (2 * q)
    cos0 = torch.cos(w0)
    b0, b1 = (1 - cos0) / 2, 1 - cos0
    a0, a1, a2 = 1 + alpha, -2 * cos0, 1 - alpha
    w = torch.linspace(0, math.pi, bins, dtype=cutoff_hz.dtype, device=cutoff_hz.device)
    z1 = torch.polar(torch.ones_like(w), -w)  # e^{-jω}
    z2 = z1 * z1
    num = b0[..., None] * (1 + 2 * z1 + z2)  # b2 = b0, b1 = 2·b0
    den = a0[..., None] + a1[..., None] * z1 + a2[..., None] * z2
    return (num.abs() / den.abs()).to(cutoff_hz.dtype)


def lowpass(x: torch.Tensor, *, cutoff_hz, resonance, sample_rate: float) -> torch.Tensor:
    """``x`` ``(B, n)`` through the resonant low-pass; ``cutoff_hz`` and ``resonance`` ``(B,)`` or ``(B, frames)``
    (a constant control is one frame)."""
    cutoff = torch.as_tensor(cutoff_hz, dtype=x.dtype, device=x.device)
    cutoff = cutoff[:, None] if cutoff.ndim == 1 else cutoff
    res = torch.as_tensor(resonance, dtype=x.dtype, device=x.device)
    res = (res[:, None] if res.ndim == 1 else res).expand_as(cutoff)
    frames = math.ceil(x.shape[1] / FILTER_HOP)
    if cutoff.shape[1] > frames:  # a response per filter update, not per control frame
        cutoff, res = upsample(cutoff, frames), upsample(res, frames)
    return framewise_fir(x, lowpass_response(cutoff, res, sample_rate=sample_rate))
