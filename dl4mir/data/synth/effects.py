"""The 12 EGFxSet effects (and Clean) as small, documented DSP, at the real dataset's knob settings.

pedalboard supplies what it has (filters, gain, chorus, phaser, a clean digital delay, Freeverb); the flanger, the
tape echo, the sweep echo and the spring reverb run on the kernels in :mod:`._kernels`.  The effects within each
family are built to differ in *kind*, not in one gain knob:

=================  ====================================================================================
Blues Driver        two asymmetric soft-clipping stages (tanh with bias → even harmonics), wide band, tone 0.5
Tube Screamer       clipping path high-passed at 720 Hz (the mid hump), symmetric soft clip summed with the
                    clean signal, dark tone filter: little bass in the distortion
RAT                 ~50 dB of gain then *hard* clipping (diodes to ground → square-ish, strong odd harmonics),
                    the RAT's low-pass "filter" at noon
Chorus              pedalboard chorus: 7 ms centre delay, slow 2 Hz modulation, no feedback
Phaser              pedalboard phaser at 2 Hz (the Phase 45's 120 bpm)
Flanger             1–5 ms swept delay with 0.55 feedback: a moving comb with resonant notches
Digital Delay       500 ms (120 bpm), 0.6 feedback, every repeat as bright as the note
Tape Echo           500 ms with wow (0.7 Hz) and flutter (7 Hz); each repeat low-passed at 2.4 kHz, high-passed
                    at 120 Hz and tape-saturated, so repeats darken and pitch wobbles
Sweep Echo          500 ms repeats through a band-pass swept 2 Hz over ~0.4–4 kHz
Plate Reverb        Freeverb, medium room, almost no damping: dense, bright, ~1.5 s
Hall Reverb         40 ms pre-delay, early reflections, large damped room: darker, ~3 s
Spring Reverb       two dispersive spring loops (≈28 and 37 ms round trips): the "drip", periodic flutter echoes
=================  ====================================================================================
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
from scipy.signal import ellip, lfilter, sosfilt

from dl4mir.data.synth._kernels import modulated_delay, spring_tank
from dl4mir.errors import ParameterError

EffectFn = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _board(*plugins):
    import pedalboard

    return pedalboard.Pedalboard(list(plugins))


def _pb(board, x: np.ndarray, sr: int) -> np.ndarray:
    return board(x.astype(np.float32), sr).astype(np.float64)


def _one_pole_coef(cutoff_hz: float, sr: int) -> float:
    return float(np.exp(-2 * np.pi * cutoff_hz / sr))


def _knob(rng, vary: bool, nominal: float, lo: float, hi: float) -> float:
    """A setting: the EGFxSet pedal's (``nominal``), or with ``vary`` one drawn log-uniformly in ``lo``–``hi``
    around it, so a model meets many choruses, not one (domain randomization)."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if vary else nominal


def clean(x, sr, rng, vary=False):
    return x


def blues_driver(x, sr, rng, vary=False):
    import pedalboard as pb

    gain, tone = _knob(rng, vary, 26.0, 16.0, 36.0), _knob(rng, vary, 3500.0, 2200.0, 5500.0)
    v = _pb(_board(pb.HighpassFilter(cutoff_frequency_hz=110.0), pb.Gain(gain_db=gain)), x, sr)
    v = np.tanh(v + 0.3) - np.tanh(0.3)  # first stage, biased: asymmetric → even harmonics
    v = np.tanh(2.5 * v + 0.15) - np.tanh(0.15)
    return 0.35 * _pb(_board(pb.LowpassFilter(cutoff_frequency_hz=tone)), v, sr)


def tube_screamer(x, sr, rng, vary=False):
    import pedalboard as pb

    hump, drive = _knob(rng, vary, 720.0, 500.0, 1000.0), _knob(rng, vary, 60.0, 20.0, 150.0)
    hp = _pb(_board(pb.HighpassFilter(cutoff_frequency_hz=hump)), x, sr)
    clipped = (2 / np.pi) * np.arctan(drive * hp) * 0.6  # diodes in the op-amp feedback: soft, symmetric
    v = 0.1 * x + clipped
    return 0.5 * _pb(_board(pb.LowpassFilter(cutoff_frequency_hz=_knob(rng, vary, 1700.0, 1100.0, 3000.0))), v, sr)


def rat(x, sr, rng, vary=False):
    import pedalboard as pb

    gain = _knob(rng, vary, 50.0, 38.0, 58.0)
    v = _pb(_board(pb.Gain(gain_db=gain), pb.LowpassFilter(cutoff_frequency_hz=6000.0)), x, sr)  # op-amp GBW
    v = np.clip(v, -0.45, 0.45)  # silicon diodes to ground: hard clipping
    return 0.9 * _pb(_board(pb.LowpassFilter(cutoff_frequency_hz=_knob(rng, vary, 2600.0, 1500.0, 4500.0))), v, sr)


def chorus(x, sr, rng, vary=False):
    import pedalboard as pb

    return _pb(_board(pb.Chorus(rate_hz=_knob(rng, vary, 2.0, 0.4, 4.0), depth=_knob(rng, vary, 0.6, 0.3, 0.9),
                                centre_delay_ms=_knob(rng, vary, 7.0, 4.0, 15.0), feedback=0.0, mix=0.5)), x, sr)


def phaser(x, sr, rng, vary=False):
    import pedalboard as pb

    return _pb(_board(pb.Phaser(rate_hz=_knob(rng, vary, 2.0, 0.3, 4.0), depth=_knob(rng, vary, 1.0, 0.6, 1.0),
                                centre_frequency_hz=_knob(rng, vary, 900.0, 400.0, 1800.0),
                                feedback=_knob(rng, vary, 0.2, 0.05, 0.6), mix=0.5)), x, sr)


def flanger(x, sr, rng, vary=False):
    t = np.arange(len(x)) / sr
    phase = rng.uniform(0, 2 * np.pi)
    rate, feedback = _knob(rng, vary, 0.5, 0.15, 2.0), _knob(rng, vary, 0.55, 0.3, 0.75)
    delay_ms = 3.0 + 2.0 * np.sin(2 * np.pi * rate * t + phase)  # range 1.0: 1–5 ms
    wet = modulated_delay(x, delay_ms * 1e-3 * sr, feedback, 0.0, 0.0, 0.0, np.zeros(1), 0.0, float(sr))
    return 0.6 * (x + wet)


def digital_delay(x, sr, rng, vary=False):
    import pedalboard as pb

    return _pb(_board(pb.Delay(delay_seconds=_knob(rng, vary, 0.5, 0.15, 0.7),
                               feedback=_knob(rng, vary, 0.6, 0.3, 0.7), mix=0.5)), x, sr) * 1.4


def tape_echo(x, sr, rng, vary=False):
    t = np.arange(len(x)) / sr
    wow = 2.0e-3 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi))
    flutter = 0.15e-3 * np.sin(2 * np.pi * 7.0 * t + rng.uniform(0, 2 * np.pi))
    delay = (_knob(rng, vary, 0.5, 0.15, 0.7) + wow + flutter) * sr
    hp = _one_pole_coef(120.0, sr)
    lp = _one_pole_coef(_knob(rng, vary, 2400.0, 1500.0, 4000.0), sr)
    wet = modulated_delay(x, delay, _knob(rng, vary, 0.6, 0.35, 0.7), lp, hp, 1.5, np.zeros(1), 0.0, float(sr))
    return 0.8 * (x + wet)


def sweep_echo(x, sr, rng, vary=False):
    t = np.arange(len(x)) / sr
    rate = _knob(rng, vary, 2.0, 0.3, 3.0)
    centre = 1250.0 * 2.0 ** (1.7 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)))
    delay = np.full(len(x), _knob(rng, vary, 0.5, 0.15, 0.7) * sr)
    wet = modulated_delay(x, delay, _knob(rng, vary, 0.6, 0.35, 0.7), 0.0, 0.0, 0.0, centre, 2.5, float(sr))
    return 0.6 * (x + 1.2 * wet)


def plate_reverb(x, sr, rng, vary=False):
    import pedalboard as pb

    return _pb(_board(pb.Reverb(room_size=_knob(rng, vary, 0.6, 0.45, 0.8), damping=_knob(rng, vary, 0.1, 0.03, 0.3),
                                wet_level=_knob(rng, vary, 0.25, 0.18, 0.4), dry_level=0.8, width=0.0)), x, sr)


def hall_reverb(x, sr, rng, vary=False):
    import pedalboard as pb

    pre = np.zeros_like(x)
    scale = _knob(rng, vary, 1.0, 0.6, 1.6)  # the room's size: pre-delay and reflections move together
    for delay_s, gain in ((0.040, 0.6), (0.053, 0.45), (0.071, 0.4), (0.089, 0.3)):  # pre-delay, early refl.
        k = int(delay_s * scale * sr)
        pre[k:] += gain * x[: len(x) - k]
    tail = _pb(_board(pb.Reverb(room_size=_knob(rng, vary, 0.88, 0.8, 0.95), damping=_knob(rng, vary, 0.6, 0.4, 0.8),
                                wet_level=1.0, dry_level=0.0, width=0.0),
                      pb.LowpassFilter(cutoff_frequency_hz=4500.0)), pre, sr)
    return 0.75 * x + 0.55 * tail


def spring_reverb(x, sr, rng, vary=False):
    import pedalboard as pb

    lp = _one_pole_coef(4000.0, sr)
    a = _knob(rng, vary, 0.6, 0.5, 0.7)  # allpass coefficient: how strongly the spring disperses
    n_ap = max(8, int(60 * sr / 48000))  # the same dispersion time at any sample rate
    loop = _knob(rng, vary, 0.028, 0.022, 0.036)  # the shorter spring's round trip; the second is 9 ms longer
    wet = (spring_tank(x, int(loop * sr), n_ap, a, 0.8, lp)
           + spring_tank(x, int((loop + 0.009) * sr), n_ap, a, 0.78, lp))
    wet = _pb(_board(pb.HighpassFilter(cutoff_frequency_hz=250.0)), wet, sr)
    return 0.8 * x + 0.45 * wet


EFFECT_FUNCTIONS: dict[str, EffectFn] = {
    "Clean": clean,
    "BluesDriver": blues_driver,
    "TubeScreamer": tube_screamer,
    "RAT": rat,
    "Chorus": chorus,
    "Phaser": phaser,
    "Flanger": flanger,
    "Digital-Delay": digital_delay,
    "TapeEcho": tape_echo,
    "Sweep-Echo": sweep_echo,
    "Plate-Reverb": plate_reverb,
    "Hall-Reverb": hall_reverb,
    "Spring-Reverb": spring_reverb,
}


DISTORTIONS = ("BluesDriver", "TubeScreamer", "RAT")
OVERSAMPLE = 4  # distortions clip at 4× the rate: an analog pedal's harmonics do not fold back below Nyquist


@lru_cache(maxsize=4)
def _halfband_sos(factor: int) -> np.ndarray:
    """The anti-imaging / anti-aliasing low-pass of the oversampled distortions: elliptic, causal (a linear-phase
    filter would ring *before* each pick attack, which no analog pedal does), 0.45 of the base rate."""
    return ellip(8, 0.05, 80, 0.9 / factor, output="sos")


def _interpolate(x: np.ndarray) -> np.ndarray:
    up = np.zeros(len(x) * OVERSAMPLE)
    up[::OVERSAMPLE] = x * OVERSAMPLE
    return sosfilt(_halfband_sos(OVERSAMPLE), up)


def _decimate(y: np.ndarray) -> np.ndarray:
    return sosfilt(_halfband_sos(OVERSAMPLE), y)[::OVERSAMPLE]


def apply_effect(folder: str, x: np.ndarray, sr: int, rng: np.random.Generator, *, vary: bool = False) -> np.ndarray:
    """Run the effect stored under EGFxSet folder name ``folder`` (e.g. ``"TapeEcho"``) on mono ``x``, at the
    EGFxSet pedal's settings, or with ``vary`` at settings drawn around them (each effect's ranges in its code)."""
    try:
        fn = EFFECT_FUNCTIONS[folder]
    except KeyError:
        raise ParameterError(f"unknown effect {folder!r}; known: {', '.join(EFFECT_FUNCTIONS)}") from None
    x = np.asarray(x, dtype=np.float64)
    if folder not in DISTORTIONS:
        return fn(x, sr, rng, vary)
    # clipped at a 16 kHz rate, the harmonics above 8 kHz alias into the band as inharmonic hash that no real
    # pedal makes, a cue a model would learn; so clip oversampled, then low-pass and decimate
    y = _decimate(fn(_interpolate(x), sr * OVERSAMPLE, rng, vary))
    # the output coupling capacitor: the asymmetric clipping's DC never leaves the pedal
    return lfilter([1.0, -1.0], [1.0, -_one_pole_coef(10.0, sr)], y)
