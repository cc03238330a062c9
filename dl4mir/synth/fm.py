"""FM synthesis as the DX7 does it (Chowning 1973; DDX7, Caspe, McPherson & Sandler, ISMIR 2022).

An operator is a sine oscillator at ``ratio × f0``; its output, scaled by its level, either goes to the output
(a carrier: the level is an amplitude) or into the phase of the operator below it in its stack (a modulator: the
level is the modulation index, in radians).  For one modulator ``m`` on a carrier ``c``::

    y(t) = a_c(t) · sin(2π f_c t + I_m(t) · sin(2π f_m t))

An *algorithm* is which operator modulates which (:data:`ALGORITHMS`, in the DX7's numbering: operator 1 is the
first carrier).  Phases are accumulated in float64, so pitch stays exact over long notes.

Band limit: FM's sidebands at ``f_c ± k·f_m`` reach ``k ≈ I + 1`` (Carson's rule) and fold back below Nyquist as
inharmonic partials.  dl4mir limits each modulation index so the stack's highest significant sideband
(``k = I + 3``, where the Bessel weights have fallen below −30 dB) stays below Nyquist at the note's highest f0 and
levels (a bound per note, so the limit is constant over the note), and silences operators whose own frequency is
above it; the tests measure what is left.  Not modelled: the DX7's operator feedback loop
(it needs a sample-by-sample recursion), its exponential envelope segments and its output-level curve.
"""
from __future__ import annotations

import torch

from dl4mir.errors import ParameterError
from dl4mir.synth.dsp import as_signal, phase_cycles, upsample

# operator → the operators that modulate it (DX7 numbering from 1); the carriers are those no operator feeds
ALGORITHMS = {
    "2x3": {1: (2,), 2: (3,), 4: (5,), 5: (6,)},  # two stacks of three (DX7 algorithm 1 without feedback)
    "3x2": {1: (2,), 3: (4,), 5: (6,)},  # three stacks of two (DX7 algorithm 5)
    "6-stack": {1: (2,), 2: (3,), 3: (4,), 4: (5,), 5: (6,)},  # one stack of six (DX7 algorithm 16's spine)
    "2op": {1: (2,)},  # one modulator on one carrier: Chowning's FM
    "additive": {},  # six carriers, no modulation
}
N_OPERATORS = {"2op": 2}  # operators an algorithm uses (default 6)
SIDEBAND_MARGIN = 3  # sidebands beyond k = I + 1 that the band limit keeps below Nyquist


def operators(algorithm: str) -> int:
    _check(algorithm)
    return N_OPERATORS.get(algorithm, 6)


def carriers(algorithm: str) -> list[int]:
    """The carriers of ``algorithm`` (0-based operator indices): the operators that modulate nothing."""
    modulates = {m for mods in ALGORITHMS[_check(algorithm)].values() for m in mods}
    return [k for k in range(operators(algorithm)) if k + 1 not in modulates]


def _check(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ParameterError(f"FM algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    return algorithm


def fm(*, f0_hz, ratios: torch.Tensor, levels: torch.Tensor, sample_rate: float, n_samples: int,
       algorithm: str = "2x3", band_limit: bool = True, phase: torch.Tensor | None = None) -> torch.Tensor:
    """Render FM notes ``(B, n_samples)``.

    Parameters
    ----------
    f0_hz : ``(B,)`` or ``(B, frames | n_samples)`` fundamental in Hz.
    ratios : ``(B, K)`` each operator's frequency as a multiple of f0 (K = :func:`operators`).
    levels : ``(B, K)``, ``(B, K, frames)`` or ``(B, K, n_samples)``: a carrier's amplitude, a modulator's index in
        radians (envelopes already applied: DDX7's decoder predicts these at its control rate).
    band_limit : limit modulation indices and silence operators so that nothing folds back over Nyquist (module
        docstring); ``False`` renders the plain equations (the analytic tests; DDX7, whose streaming must not
        depend on how a note is cut into blocks).
    phase : ``(B, K)`` each operator's phase (cycles) at the first sample, default 0 (a stream's next block:
        :func:`dl4mir.synth.dsp.next_phase`).
    """
    K = operators(algorithm)
    if ratios.shape[-1] != K or levels.shape[1] != K:
        raise ParameterError(f"FM algorithm {algorithm!r} has {K} operators; got ratios {tuple(ratios.shape)} and "
                             f"levels {tuple(levels.shape)}")
    dtype = levels.dtype
    f0 = as_signal(f0_hz, n_samples, like=levels)  # (B, n)
    level = (levels[..., None].expand(-1, -1, n_samples) if levels.ndim == 2  # (B, K, n)
             else levels if levels.shape[-1] == n_samples else upsample(levels, n_samples))
    f0_hz = torch.as_tensor(f0_hz, dtype=dtype, device=levels.device)
    steady = f0_hz.expand(len(levels)) if f0_hz.ndim <= 1 else f0  # a steady pitch's phase is cheaper
    cycles = phase_cycles(steady, sample_rate, ratio=ratios, start=phase, n_samples=n_samples)  # (B, K, n), wrapped
    freq = f0.amax(dim=1)[:, None] * ratios  # (B, K) each operator's highest frequency in the note
    peak = level.amax(dim=2)  # (B, K) each operator's highest level in the note
    nyquist = sample_rate / 2
    mods = ALGORITHMS[algorithm]
    top = {}  # operator → its output's highest significant frequency (Hz), for the band limit

    def render(k: int) -> torch.Tensor:
        """Operator k's output before its level, its modulators rendered first (top of the stack down)."""
        phase_mod = torch.zeros_like(f0)
        edge = freq[:, k]
        for m in mods.get(k + 1, ()):
            m = m - 1
            signal = render(m)
            index = level[:, m]
            if band_limit:  # sidebands up to k = I + margin of the modulator's top frequency stay below Nyquist
                room = ((nyquist - freq[:, k]) / top[m].clamp_min(1e-3) - SIDEBAND_MARGIN).clamp_min(0.0)
                room = room / len(mods[k + 1])
                index = torch.minimum(index, room[:, None])
                edge = edge + (torch.minimum(peak[:, m], room) + SIDEBAND_MARGIN) * top[m]
            phase_mod = phase_mod + index * signal
        top[k] = edge
        y = torch.sin(2 * torch.pi * cycles[:, k].to(dtype) + phase_mod)
        return y * (freq[:, k:k + 1] < nyquist) if band_limit else y

    out = torch.zeros_like(f0)
    for c in carriers(algorithm):
        out = out + level[:, c] * render(c)
    return out
