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
    sustain: float = 1.0,
    recording: bool = True,
) -> np.ndarray:
    """Render one note as float64 ``(n,)`` at roughly -6 dBFS peak for a firm pluck.

    Random choices (pluck position, pick hardness, dynamics, onset time, noise) come from ``rng`` so a note is
    reproducible from its seed.  ``sustain`` scales the string's T60 (a palm mute: ≈0.05, and duller);
    ``recording=False`` leaves out the hum and noise floor, for notes summed into a phrase that adds them once.
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
    if sustain < 1.0:  # the palm on the strings by the bridge damps the highs most
        brightness = min(0.5, brightness + 0.15 * (1.0 - sustain))
    n_int = int(np.floor(period - brightness - 0.1))
    frac = period - brightness - n_int
    c = (1 - frac) / (1 + frac)
    loss_at_f0 = abs((1 - brightness) + brightness * np.exp(-2j * np.pi * f0 / sr))
    g = 10 ** (-3.0 / (sustain * string_t60_s(f0) * f0)) / loss_at_f0
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
    return add_recording_chain(out, pickup, sr=sr, rng=rng) if recording else out


def add_recording_chain(out: np.ndarray, pickup: str, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    """5. Mains hum (single coils only) and the noise floor, added once per recording."""
    model = PICKUP_MODELS[pickup]
    n = len(out)
    t = np.arange(n) / sr
    if model.hum:
        hum_phase = rng.uniform(0, 2 * np.pi)
        out += 10 ** (-58 / 20) * sum(
            np.sin(2 * np.pi * 60 * k * t + hum_phase * k) / k for k in (1, 3, 5)
        )
    out += 10 ** (-72 / 20) * rng.standard_normal(n)
    return out


PLAYING = ("notes", "phrases")
STYLES = ("single note", "double stop", "power chord", "strum", "palm-muted chugs", "riff")
RELEASE_S = 0.03  # a fretted note stops this fast when the finger lifts or the string is picked again


def _fret_for(string: int, midi: int) -> int | None:
    fret = midi - OPEN_STRING_MIDI[string]
    return fret if 0 <= fret <= 22 else None


def _shape(string: int, fret: int, style: str, rng: np.random.Generator) -> list[tuple[int, int]]:
    """The (string, fret) pairs sounded together for one event whose lowest note is ``string``/``fret``."""
    root = OPEN_STRING_MIDI[string] + fret
    if style == "single note":
        return [(string, fret)]
    if style == "double stop":
        intervals = [int(rng.choice([3, 4, 5, 7]))]
    elif style in ("power chord", "palm-muted chugs"):
        intervals = [7, 12]
    else:  # strum: a major or minor triad voiced over up to five strings
        third = int(rng.choice([3, 4]))
        intervals = [7, 12, 12 + third, 19][: int(rng.integers(2, 5))]
    notes = [(string, fret)]
    for k, interval in enumerate(intervals, start=1):
        s = string - k  # the next thinner string
        if s < 1:
            break
        f = _fret_for(s, root + interval)
        if f is not None:
            notes.append((s, f))
    return notes


def play(string: int, fret: int, pickup: str, *, sr: int, duration_s: float, rng: np.random.Generator,
         style: str | None = None) -> tuple[np.ndarray, str]:
    """A short piece of guitar playing that starts on ``string``/``fret`` (its lowest, first note): one of
    :data:`STYLES`, drawn from ``rng`` unless given.  Returns ``(waveform, style)``.

    Single notes and double stops ring; power chords and strums are struck with the strings a few ms apart (a
    downstroke from the thick strings, or an upstroke); chugs are palm-muted power chords or roots repeated on
    eighth or sixteenth notes with an open accent now and then; a riff is 4–8 notes of the minor pentatonic
    around the first note, some palm-muted.  A string picked again stops its previous note (a 30 ms release),
    and so does a lifted finger before the end.  Hum and the noise floor are added once.
    """
    style = style or str(rng.choice(STYLES))
    if style not in STYLES:
        raise ParameterError(f"style must be one of {STYLES}, got {style!r}")
    n = int(round(duration_s * sr))
    events: list[tuple[float, list[tuple[int, int]], float]] = []  # (onset s, notes, sustain)
    beat = 60.0 / rng.uniform(80.0, 190.0)
    if style in ("single note", "double stop", "power chord", "strum"):
        events.append((0.0, _shape(string, fret, style, rng), 1.0))
        if rng.random() < 0.4:  # struck again before the clip ends
            events.append((rng.uniform(0.4, 0.8) * duration_s, _shape(string, fret, style, rng), 1.0))
    elif style == "palm-muted chugs":
        step = beat / float(rng.choice([2, 4]))
        shape = _shape(string, fret, "power chord", rng) if rng.random() < 0.6 else [(string, fret)]
        t = 0.0
        while t < duration_s - 0.05:
            accent = rng.random() < 0.15
            events.append((t, shape, 1.0 if accent else rng.uniform(0.03, 0.08)))
            t += step
    else:  # riff: minor pentatonic from the first note, on this string and the next thinner one
        scale = [0, 3, 5, 7, 10, 12]
        root = OPEN_STRING_MIDI[string] + fret
        t, first = 0.0, True
        for _ in range(int(rng.integers(4, 9))):
            if t >= duration_s - 0.05:
                break
            midi = root if first else root + int(rng.choice(scale))
            s = string if first or rng.random() < 0.6 or string == 1 else string - 1
            f = _fret_for(s, midi)
            if f is None:
                s, f = string, fret
            events.append((t, [(s, f)], rng.uniform(0.04, 0.1) if rng.random() < 0.35 else 1.0))
            t += beat * float(rng.choice([0.25, 0.5, 0.5, 1.0]))
            first = False
    down = rng.random() < 0.7
    spread = rng.uniform(0.004, 0.012) if style in ("power chord", "strum", "palm-muted chugs") else 0.002
    out = np.zeros(n)
    notes: list[tuple[int, int, int, float]] = []  # (onset sample, string, fret, sustain)
    for onset_s, shape, sustain in events:
        order = shape if down else shape[::-1]
        for k, (s, f) in enumerate(order):
            notes.append((int((onset_s + k * spread) * sr), s, f, sustain))
    notes.sort()
    ends = {}
    for i, (_, s, _, _) in enumerate(notes):  # each note stops when its string is picked again
        later = [st for st, s2, _, _ in notes[i + 1:] if s2 == s]
        ends[i] = later[0] if later else n
    release = int(RELEASE_S * sr)
    for i, (start, s, f, sustain) in enumerate(notes):
        if start >= n:
            continue
        y = pluck_note(s, f, pickup, sr=sr, duration_s=(n - start) / sr, rng=rng, sustain=sustain,
                       recording=False) * rng.uniform(0.7, 1.0)
        stop = ends[i] - start
        if stop < len(y):
            fade = np.clip(1.0 - (np.arange(len(y)) - stop + release) / release, 0.0, 1.0)
            y = y * fade
        out[start:start + len(y)] += y[: n - start]
    return add_recording_chain(out, pickup, sr=sr, rng=rng), style
