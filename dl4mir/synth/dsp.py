"""The building blocks the synthesizers share: exact phase, control-rate to audio-rate, band-limited steps and a
time-varying FIR filter designed by frequency sampling.  Tensors are ``(batch, time)``; frequencies in Hz."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dl4mir.errors import ParameterError


def as_signal(x, n_samples: int, like: torch.Tensor | None = None) -> torch.Tensor:
    """A control — a number, ``(B,)`` (constant per note), ``(B, frames)`` or ``(B, n_samples)`` — as ``(B,
    n_samples)``; frame-rate controls are linearly interpolated, their first and last values at the ends."""
    x = torch.as_tensor(x, dtype=like.dtype if like is not None else None,
                        device=like.device if like is not None else None)
    if x.ndim == 0:
        x = x[None]
    if x.ndim == 1:
        return x[:, None].expand(-1, n_samples)
    if x.shape[-1] == n_samples:
        return x
    return upsample(x, n_samples)


def upsample(control: torch.Tensor, n_samples: int) -> torch.Tensor:
    """``(..., frames)`` → ``(..., n_samples)`` by linear interpolation (DDSP's amplitude upsampling)."""
    lead = control.shape[:-1]
    flat = control.reshape(-1, 1, control.shape[-1])
    if control.shape[-1] == 1:
        return flat.expand(-1, 1, n_samples).reshape(*lead, n_samples)
    return F.interpolate(flat, size=n_samples, mode="linear", align_corners=True).reshape(*lead, n_samples)


STEADY_BLOCK = 64  # samples per block of a steady pitch's phase (see phase_cycles)


def phase_cycles(f0_hz: torch.Tensor, sample_rate: float, *, ratio: torch.Tensor | None = None,
                 start: torch.Tensor | None = None, n_samples: int | None = None) -> torch.Tensor:
    """``(B, n)`` instantaneous frequencies → ``(B, n)`` phase in cycles, 0 at the first sample, accumulated in
    float64 and wrapped to [0, 1) (so a 4 s note keeps its pitch exact: float32 would drift), returned in float64;
    its gradient reaches ``f0_hz`` through the sum.  ``ratio`` ``(B, K)``: the phases ``(B, K, n)`` of ``K``
    partials at those multiples of f0, from one sum (the phase of ``r·f0`` is ``r`` times the phase of f0).
    ``start`` ``(B,)`` or ``(B, K)``: the phase at the first sample instead of 0 (a stream continuing its last
    block: :func:`next_phase`).

    A steady pitch, ``f0_hz`` ``(B,)`` with ``n_samples``, is cheaper and as exact: the phase at sample
    ``64·a + b`` is ``frac(inc·64·a) + frac(inc·b)``, both wrapped in float64 on the small grids of ``a`` and
    ``b`` and summed in f0's dtype (each term in [0, 1): error below 1e-6 cycles in float32, with no
    accumulation), so the per-sample work is one addition instead of a float64 sum, product and floor."""
    if f0_hz.ndim == 1:
        if n_samples is None:
            raise ParameterError("a steady pitch (f0_hz of shape (B,)) needs n_samples")
        return _steady_phase(f0_hz, sample_rate, ratio=ratio, start=start, n_samples=n_samples)
    increments = f0_hz.to(torch.float64) / sample_rate
    cycles = torch.cumsum(increments, dim=-1) - increments  # exclusive: sample 0 has phase 0
    if ratio is not None:
        cycles = cycles[:, None, :] * ratio.to(torch.float64)[:, :, None]
    if start is not None:
        cycles = cycles + start.to(torch.float64)[..., None]
    return cycles - torch.floor(cycles)


def _steady_phase(f0_hz, sample_rate, *, ratio, start, n_samples: int) -> torch.Tensor:
    inc = f0_hz.to(torch.float64) / sample_rate  # (B,) cycles per sample
    if ratio is not None:
        inc = inc[:, None] * ratio.to(torch.float64)  # (B, K)
    blocks = -(-n_samples // STEADY_BLOCK)
    grid = dict(dtype=torch.float64, device=f0_hz.device)
    coarse = inc[..., None] * (torch.arange(blocks, **grid) * STEADY_BLOCK)  # (..., blocks)
    if start is not None:
        coarse = coarse + start.to(torch.float64)[..., None]
    fine = inc[..., None] * torch.arange(STEADY_BLOCK, **grid)  # (..., STEADY_BLOCK)
    coarse, fine = (v - torch.floor(v) for v in (coarse, fine))
    cycles = coarse.to(f0_hz.dtype)[..., :, None] + fine.to(f0_hz.dtype)[..., None, :]  # in [0, 2)
    cycles = cycles.flatten(-2)[..., :n_samples]
    return cycles - torch.floor(cycles)


def next_phase(f0_hz: torch.Tensor, sample_rate: float, *, ratio: torch.Tensor | None = None,
               start: torch.Tensor | None = None) -> torch.Tensor:
    """The phase (cycles, float64, wrapped) at the sample after a block of :func:`phase_cycles`: where the next
    block starts, ``(B,)`` or ``(B, K)`` with ``ratio``.  Kept per partial, not per f0: a non-integer ratio times
    a wrapped phase of f0 would jump."""
    total = f0_hz.detach().to(torch.float64).sum(dim=-1) / sample_rate  # (B,)
    cycles = total[:, None] * ratio.detach().to(torch.float64) if ratio is not None else total
    if start is not None:
        cycles = cycles + start.to(torch.float64)
    return cycles - torch.floor(cycles)


def causal_upsample(control: torch.Tensor, hop: int, previous: torch.Tensor | None = None) -> torch.Tensor:
    """``(..., frames)`` → ``(..., frames · hop)``: within frame ``i`` the value moves linearly from frame
    ``i − 1``'s to frame ``i``'s, reaching it at the frame's last sample (``previous`` ``(..., 1)``: the frame
    before the first, e.g. the last of the previous block; default the first frame itself).  A frame's samples
    depend on no later frame, so a signal rendered block by block equals the signal rendered whole (DDX7's
    streaming); the price is one frame of latency."""
    before = torch.cat([control[..., :1] if previous is None else previous.to(control), control[..., :-1]], dim=-1)
    ramp = torch.arange(1, hop + 1, dtype=control.dtype, device=control.device) / hop  # (hop,)
    out = before[..., None] + (control - before)[..., None] * ramp  # (..., frames, hop)
    return out.reshape(*control.shape[:-1], control.shape[-1] * hop)


def poly_blep(t: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
    """The polynomial band-limited step residual (Välimäki & Huovilainen 2007) at phase ``t`` (cycles, in
    [0, 1)) for a phase increment ``dt`` per sample: subtracting it from a naive sawtooth's jump rounds the jump
    over two samples, which removes most of the aliasing."""
    dt = dt.clamp(1e-9, 0.5)
    after = t / dt  # just after the jump
    before = (t - 1) / dt  # just before the next one
    return torch.where(t < dt, 2 * after - after * after - 1,
                       torch.where(t > 1 - dt, before * before + 2 * before + 1, torch.zeros_like(t)))


FILTER_HOP = 128  # samples between filter updates (8 ms at 16 kHz): the time-varying filters' control rate


def framewise_fir(x: torch.Tensor, magnitudes: torch.Tensor, *, hop: int = FILTER_HOP) -> torch.Tensor:
    """Filter ``x`` ``(B, n)`` by a response that changes over time: ``magnitudes`` ``(B, frames, bins)`` are the
    wanted gains from 0 Hz to Nyquist, equally spaced (frequency sampling, as DDSP's filtered noise), linearly
    interpolated to one response per ``hop`` samples.  Each response becomes a zero-phase impulse response
    (inverse real FFT, ``2·(bins − 1)`` samples), centred and Hann-windowed; the block of ``x`` under it is
    convolved with it (FFT) and the tails overlap-added.  Linear phase; the delay is removed, so the output lines
    up with ``x``."""
    B, n = x.shape
    frames = math.ceil(n / hop)
    if magnitudes.shape[1] != frames:
        magnitudes = upsample(magnitudes.transpose(1, 2), frames).transpose(1, 2)
    ir_length = 2 * (magnitudes.shape[2] - 1)
    ir = torch.fft.irfft(magnitudes.to(x.dtype), n=ir_length)  # (B, frames, L), zero phase: centred at 0
    ir = torch.roll(ir, ir_length // 2, dims=-1) * torch.hann_window(ir_length, periodic=True, dtype=x.dtype,
                                                                      device=x.device)
    n_fft = 1 << math.ceil(math.log2(hop + ir_length - 1))
    blocks = F.pad(x, (0, frames * hop - n)).reshape(B, frames, hop)
    y = torch.fft.irfft(torch.fft.rfft(blocks, n=n_fft) * torch.fft.rfft(ir, n=n_fft), n=n_fft)  # (B, frames, n_fft)
    # overlap-add: block f's output starts at f·hop; cut into hop-long pieces, piece j lands on frame f + j
    pieces = -(-n_fft // hop)
    y = F.pad(y, (0, pieces * hop - n_fft)).reshape(B, frames, pieces, hop)
    out = y.new_zeros(B, frames + pieces - 1, hop)
    for j in range(pieces):
        out[:, j:j + frames] += y[:, :, j]
    delay = ir_length // 2
    return out.reshape(B, -1)[:, delay: delay + n]
