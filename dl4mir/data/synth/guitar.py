"""A plucked electric-guitar note: digital-waveguide string, pickup position, pickup electrics, hum and noise.

Physics, in order of the signal:

1. **Pluck.** A one-period noise burst (the string's initial shape), low-passed by pick hardness, then the
   pluck-position comb ``e[n] - e[n - βP]`` (plucking at a fraction β of the vibrating length from the bridge
   removes every 1/β-th harmonic).
2. **String.** :func:`~dl4mir.data.synth._kernels.waveguide_string` with per-period loop gain from a T60 that
   shortens with pitch, and a duller loss filter for the wound strings 4–6.
3. **Pickup position.** A magnetic pickup at distance *d* from the bridge sees the sum of the wave travelling to
   the bridge and its inverted reflection: a comb ``y[n] - y[n - (d/L)·P]`` with *L* the *fretted* length, so the
   same pickup sounds different on every fret.  Two-pickup positions average two combs.
4. **Pickup electrics.** Coil inductance against cable capacitance: a resonant low-pass (RBJ biquad).  Two
   pickups in parallel halve the inductance and lift the resonance by ≈√2.
5. **Hum and noise.** Single coils pick up mains hum (60 Hz and odd harmonics); the reverse-wound middle pickup
   cancels it in the two-pickup positions.  A -72 dBFS noise floor stands in for the recording chain.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from dl4mir.data.egfxset import OPEN_STRING_MIDI, midi_to_hz
from dl4mir.data.synth._kernels import waveguide_string
from dl4mir.errors import ParameterError

SCALE_LENGTH_MM = 648.0  # Fender Stratocaster


@dataclass(frozen=True)
class Pickup:
    positions_mm: tuple[float, ...]  # distance(s) of the pole pieces from the bridge saddle
    resonance_hz: float
    q: float
    gain: float
    hum: bool


PICKUP_MODELS = {
    "Bridge": Pickup((41.0,), 4600.0, 2.0, 1.0, True),
    "Bridge-Middle": Pickup((41.0, 101.0), 6200.0, 1.3, 0.85, False),
    "Middle": Pickup((101.0,), 4200.0, 1.8, 1.15, True),
    "Middle-Neck": Pickup((101.0, 160.0), 5800.0, 1.2, 0.95, False),
    "Neck": Pickup((160.0,), 3600.0, 1.6, 1.3, True),
}


def _lowpass_biquad(cutoff_hz: float, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ cookbook resonant low-pass; cutoff clamped below Nyquist so low sample rates stay stable."""
    w0 = 2 * np.pi * min(cutoff_hz, 0.45 * sr) / sr
    alpha = np.sin(w0) / (2 * q)
    cw = np.cos(w0)
    b = np.array([(1 - cw) / 2, 1 - cw, (1 - cw) / 2])
    a = np.array([1 + alpha, -2 * cw, 1 - alpha])
    return b / a[0], a / a[0]


def _delayed(y: np.ndarray, delay: float) -> np.ndarray:
    """``y`` delayed by a fractional number of samples (linear interpolation), zero-filled at the start."""
    i = int(np.floor(delay))
    frac = delay - i
    out = np.zeros_like(y)
    if i < len(y):
        out[i:] = (1 - frac) * y[: len(y) - i]
    if i + 1 < len(y):
        out[i + 1 :] += frac * y[: len(y) - i - 1]
    return out


def string_t60_s(f0_hz: float) -> float:
    """Decay time of the string's fundamental: ≈7 s for the open low E, ≈2 s at the top of the neck."""
    return 7.0 * (82.4 / f0_hz) ** 0.45


def pluck_note(
    string: int,
    fret: int,
    pickup: str,
    *,
    sr: int,
    duration_s: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Render one note as float64 ``(n,)`` at roughly -6 dBFS peak for a firm pluck.

    Random choices (pluck position, pick hardness, dynamics, onset time, noise) come from ``rng`` so a note is
    reproducible from its seed.
    """
    if string not in OPEN_STRING_MIDI:
        raise ParameterError(f"string must be 1..6, got {string}")
    if not 0 <= fret <= 22:
        raise ParameterError(f"fret must be 0..22, got {fret}")
    if pickup not in PICKUP_MODELS:
        raise ParameterError(f"pickup must be one of {list(PICKUP_MODELS)}, got {pickup!r}")
    n = int(round(duration_s * sr))
    f0 = midi_to_hz(OPEN_STRING_MIDI[string] + fret)
    period = sr / f0

    # 1. pluck: one period of noise, softened by pick hardness, then the pluck-position comb
    p_int = max(int(round(period)), 2)
    exc = rng.uniform(-1.0, 1.0, p_int)
    exc -= exc.mean()
    hardness = rng.uniform(0.25, 0.65)
    exc = lfilter([1 - hardness], [1, -hardness], exc)
    beta = rng.uniform(0.09, 0.2)
    exc = np.concatenate([exc, np.zeros(p_int)])
    exc = exc - _delayed(exc, beta * period)
    dynamics = rng.uniform(0.6, 1.0)

    # 2. string loop, tuned with the allpass to the exact period
    # The loss filter runs once per period, so higher notes meet it more often per second: scale its damping
    # down with pitch, and divide it out at f0 so the fundamental itself decays at exactly the T60.
    brightness = (0.47 if string >= 4 else 0.4) * min(1.0, (82.4 / f0) ** 0.5)  # wound strings lose highs faster
    n_int = int(np.floor(period - brightness - 0.1))
    frac = period - brightness - n_int
    c = (1 - frac) / (1 + frac)
    loss_at_f0 = abs((1 - brightness) + brightness * np.exp(-2j * np.pi * f0 / sr))
    g = 10 ** (-3.0 / (string_t60_s(f0) * f0)) / loss_at_f0
    onset = int(rng.uniform(0.005, 0.02) * sr)
    y = waveguide_string(exc * dynamics, n - onset, n_int, c, g, brightness)

    # 3. pickup position relative to the fretted length
    model = PICKUP_MODELS[pickup]
    fretted_mm = SCALE_LENGTH_MM * 2.0 ** (-fret / 12.0)
    y = np.mean([y - _delayed(y, (d / fretted_mm) * period) for d in model.positions_mm], axis=0)

    # 4. pickup electrics
    b, a = _lowpass_biquad(model.resonance_hz, model.q, sr)
    y = lfilter(b, a, y) * model.gain * 0.45

    out = np.zeros(n)
    out[onset:] = y
    # 5. hum (single coils only) and the noise floor
    t = np.arange(n) / sr
    if model.hum:
        hum_phase = rng.uniform(0, 2 * np.pi)
        out += 10 ** (-58 / 20) * sum(
            np.sin(2 * np.pi * 60 * k * t + hum_phase * k) / k for k in (1, 3, 5)
        )
    out += 10 ** (-72 / 20) * rng.standard_normal(n)
    return out
