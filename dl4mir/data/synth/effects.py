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

from typing import Callable

import numpy as np
from scipy.signal import lfilter

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


def clean(x, sr, rng):
    return x


def blues_driver(x, sr, rng):
    import pedalboard as pb

    v = _pb(_board(pb.HighpassFilter(cutoff_frequency_hz=110.0), pb.Gain(gain_db=26.0)), x, sr)
    v = np.tanh(v + 0.3) - np.tanh(0.3)  # first stage, biased: asymmetric → even harmonics
    v = np.tanh(2.5 * v + 0.15) - np.tanh(0.15)
    return 0.35 * _pb(_board(pb.LowpassFilter(cutoff_frequency_hz=3500.0)), v, sr)


def tube_screamer(x, sr, rng):
    import pedalboard as pb

    hp = _pb(_board(pb.HighpassFilter(cutoff_frequency_hz=720.0)), x, sr)
    clipped = (2 / np.pi) * np.arctan(60.0 * hp) * 0.6  # diodes in the op-amp feedback: soft, symmetric
    v = 0.1 * x + clipped
    return 0.5 * _pb(_board(pb.LowpassFilter(cutoff_frequency_hz=1700.0)), v, sr)


def rat(x, sr, rng):
    import pedalboard as pb

    v = _pb(_board(pb.Gain(gain_db=50.0), pb.LowpassFilter(cutoff_frequency_hz=6000.0)), x, sr)  # op-amp GBW
    v = np.clip(v, -0.45, 0.45)  # silicon diodes to ground: hard clipping
    return 0.9 * _pb(_board(pb.LowpassFilter(cutoff_frequency_hz=2600.0)), v, sr)


def chorus(x, sr, rng):
    import pedalboard as pb

    return _pb(_board(pb.Chorus(rate_hz=2.0, depth=0.6, centre_delay_ms=7.0, feedback=0.0, mix=0.5)), x, sr)


def phaser(x, sr, rng):
    import pedalboard as pb

    return _pb(_board(pb.Phaser(rate_hz=2.0, depth=1.0, centre_frequency_hz=900.0, feedback=0.2, mix=0.5)), x, sr)


def flanger(x, sr, rng):
    t = np.arange(len(x)) / sr
    phase = rng.uniform(0, 2 * np.pi)
    delay_ms = 3.0 + 2.0 * np.sin(2 * np.pi * 0.5 * t + phase)  # range 1.0: 1–5 ms
    wet = modulated_delay(x, delay_ms * 1e-3 * sr, 0.55, 0.0, 0.0, 0.0, np.zeros(1), 0.0, float(sr))
    return 0.6 * (x + wet)


def digital_delay(x, sr, rng):
    import pedalboard as pb

    return _pb(_board(pb.Delay(delay_seconds=0.5, feedback=0.6, mix=0.5)), x, sr) * 1.4


def tape_echo(x, sr, rng):
    t = np.arange(len(x)) / sr
    wow = 2.0e-3 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi))
    flutter = 0.15e-3 * np.sin(2 * np.pi * 7.0 * t + rng.uniform(0, 2 * np.pi))
    delay = (0.5 + wow + flutter) * sr
    hp = _one_pole_coef(120.0, sr)
    wet = modulated_delay(x, delay, 0.6, _one_pole_coef(2400.0, sr), hp, 1.5, np.zeros(1), 0.0, float(sr))
    return 0.8 * (x + wet)


def sweep_echo(x, sr, rng):
    t = np.arange(len(x)) / sr
    centre = 1250.0 * 2.0 ** (1.7 * np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, 2 * np.pi)))
    delay = np.full(len(x), 0.5 * sr)
    wet = modulated_delay(x, delay, 0.6, 0.0, 0.0, 0.0, centre, 2.5, float(sr))
    return 0.6 * (x + 1.2 * wet)


def plate_reverb(x, sr, rng):
    import pedalboard as pb

    return _pb(_board(pb.Reverb(room_size=0.6, damping=0.1, wet_level=0.25, dry_level=0.8, width=0.0)), x, sr)


def hall_reverb(x, sr, rng):
    import pedalboard as pb

    pre = np.zeros_like(x)
    for delay_s, gain in ((0.040, 0.6), (0.053, 0.45), (0.071, 0.4), (0.089, 0.3)):  # pre-delay, early refl.
        k = int(delay_s * sr)
        pre[k:] += gain * x[: len(x) - k]
    tail = _pb(_board(pb.Reverb(room_size=0.88, damping=0.6, wet_level=1.0, dry_level=0.0, width=0.0),
                      pb.LowpassFilter(cutoff_frequency_hz=4500.0)), pre, sr)
    return 0.75 * x + 0.55 * tail


def spring_reverb(x, sr, rng):
    import pedalboard as pb

    lp = _one_pole_coef(4000.0, sr)
    a = 0.6  # allpass coefficient: how strongly the spring disperses
    n_ap = max(8, int(60 * sr / 48000))  # the same dispersion time at any sample rate
    wet = spring_tank(x, int(0.028 * sr), n_ap, a, 0.8, lp) + spring_tank(x, int(0.037 * sr), n_ap, a, 0.78, lp)
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


def apply_effect(folder: str, x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Run the effect stored under EGFxSet folder name ``folder`` (e.g. ``"TapeEcho"``) on mono ``x``."""
    try:
        fn = EFFECT_FUNCTIONS[folder]
    except KeyError:
        raise ParameterError(f"unknown effect {folder!r}; known: {', '.join(EFFECT_FUNCTIONS)}") from None
    y = fn(np.asarray(x, dtype=np.float64), sr, rng)
    if folder in DISTORTIONS:  # the output coupling capacitor: the asymmetric clipping's DC never leaves the pedal
        return lfilter([1.0, -1.0], [1.0, -_one_pole_coef(10.0, sr)], y)
    return y
