"""A plucked electric-guitar note: digital-waveguide string, pickup position, pickup electrics, hum and noise.

Physics, in order of the signal:

1. **Pluck.** The string's initial shape under the pick: a triangle with its apex at a fraction β of the
   vibrating length from the bridge (harmonic *n* at sin(nπβ)/n², so every 1/β-th harmonic is missing), plus a
   little scrape noise, low-passed by pick hardness.  (A one-period white-noise burst, the textbook
   Karplus–Strong excitation, sounded about three times too bright against real EGFxSet notes.)
2. **String.** :func:`~dl4mir.data.synth._kernels.waveguide_string` with per-period loop gain from a T60 that
   shortens with pitch, and a duller loss filter for the wound strings 4–6.
3. **Pickup position.** A magnetic pickup at distance *d* from the bridge sees the sum of the wave travelling to
   the bridge and its inverted reflection: a comb ``y[n] - y[n - (d/L)·P]`` with *L* the *fretted* length, so the
   same pickup sounds different on every fret.  Two-pickup positions average two combs.
4. **Pickup electrics.** Coil inductance against cable capacitance: a resonant low-pass (RBJ biquad).  Two
   pickups in parallel halve the inductance and lift the resonance by ≈√2.
5. **Hum and noise.** Single coils pick up mains hum (60 Hz and odd harmonics); the reverse-wound middle pickup
   cancels it in the two-pickup positions.  A -72 dBFS noise floor stands in for the recording chain.

The defaults are EGFxSet's Stratocaster, calibrated against its real notes.  For models that must hear other
guitars, :func:`pickup_model` has a humbucker in each position, ``tuning_semitones`` tunes down, a :class:`Tone`
varies the strings' age, pick clicks, string noise and the tone stack, and :func:`play` turns notes into playing
(riffs, chords, strums, chugs, with pitch glides, vibrato and bends).
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
PICKUP_TYPES = ("single-coil", "humbucker")
HUMBUCKER_COIL_SPACING_MM = 18.0


def pickup_model(pickup: str, pickup_type: str = "single-coil") -> Pickup:
    """The pickup at position ``pickup`` as a Stratocaster's single coil, or as a humbucker in the same place: two
    coils 18 mm apart (two combs averaged, so the highest harmonics partly cancel), several times the winding
    (resonance ≈ 0.6× as high and broader, more output) and hum-cancelling."""
    if pickup not in PICKUP_MODELS:
        raise ParameterError(f"pickup must be one of {list(PICKUP_MODELS)}, got {pickup!r}")
    single = PICKUP_MODELS[pickup]
    if pickup_type == "single-coil":
        return single
    if pickup_type != "humbucker":
        raise ParameterError(f"pickup_type must be one of {PICKUP_TYPES}, got {pickup_type!r}")
    half = HUMBUCKER_COIL_SPACING_MM / 2
    return Pickup(tuple(d + s for d in single.positions_mm for s in (-half, half)), 0.6 * single.resonance_hz,
                  0.8 * single.q, 1.6 * single.gain, False)


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
    pickup_type: str = "single-coil",
    tone: Tone | None = None,
    tuning_semitones: int = 0,
) -> np.ndarray:
    """Render one note as float64 ``(n,)`` at roughly -6 dBFS peak for a firm pluck.

    Random choices (pluck position, pick hardness, dynamics, onset time, noise) come from ``rng`` so a note is
    reproducible from its seed.  ``sustain`` scales the string's T60 (a palm mute: ≈0.05, and duller);
    ``recording=False`` leaves out the hum and noise floor, for notes summed into a phrase that adds them once.
    ``pickup_type``: ``"single-coil"`` (EGFxSet's Stratocaster) or ``"humbucker"`` (:func:`pickup_model`).
    ``tone``: the strings' age and the pick's scrape (:class:`Tone`); ``None``: the Strat calibrated against
    EGFxSet, no scrape.  ``tuning_semitones``: the whole guitar tuned down (−2: D standard, −5: a seven-string's
    low B, as metal players tune), the fret and the pickup comb where they were.
    """
    if string not in OPEN_STRING_MIDI:
        raise ParameterError(f"string must be 1..6, got {string}")
    if not 0 <= fret <= 22:
        raise ParameterError(f"fret must be 0..22, got {fret}")
    model = pickup_model(pickup, pickup_type)
    n = int(round(duration_s * sr))
    f0 = midi_to_hz(OPEN_STRING_MIDI[string] + fret + tuning_semitones)
    period = sr / f0

    # 1. pluck: the string's shape under the pick, a triangle with its apex at the pluck point (harmonic n at
    # sin(nπβ)/n², which is where the pluck position's missing harmonics come from), a little scrape noise,
    # rounded by the pick's hardness
    p_int = max(int(round(period)), 2)
    beta = rng.uniform(0.09, 0.2)
    k = np.arange(p_int) / p_int
    exc = np.where(k < beta, k / beta, (1 - k) / (1 - beta)) + 0.05 * rng.uniform(-1.0, 1.0, p_int)
    exc -= exc.mean()
    hardness = rng.uniform(0.25, 0.65)
    exc = lfilter([1 - hardness], [1, -hardness], exc)
    dynamics = rng.uniform(0.6, 1.0)

    # 2. string loop, tuned with the allpass to the exact period
    # The loss filter runs once per period, so higher notes meet it more often per second: scale its damping
    # down with pitch, and divide it out at f0 so the fundamental itself decays at exactly the T60.
    brightness = (0.47 if string >= 4 else 0.4) * min(1.0, (82.4 / f0) ** 0.5)  # wound strings lose highs faster
    if tone is not None:
        brightness *= tone.string_loss
    if sustain < 1.0:  # the palm on the strings by the bridge damps the highs most
        brightness = min(0.5, brightness + 0.15 * (1.0 - sustain))
    n_int = int(np.floor(period - brightness - 0.1))
    frac = period - brightness - n_int
    c = (1 - frac) / (1 + frac)
    loss_at_f0 = abs((1 - brightness) + brightness * np.exp(-2j * np.pi * f0 / sr))
    g = 10 ** (-3.0 / (sustain * string_t60_s(f0) * f0)) / loss_at_f0
    onset = int(rng.uniform(0.005, 0.02) * sr)
    y = waveguide_string(exc * dynamics, n - onset, n_int, c, g, brightness)
    if tone is not None:
        # the pick leaving the string: a click of well under a millisecond, broadband (a real DI track's crest
        # factor is ≈19 dB, a waveguide's smooth onset ≈14 dB), then the pick and fingers scraping the winding
        m = min(len(y), int(0.006 * sr))
        t = np.arange(m) / sr
        peak = np.abs(y).max()
        click = np.diff(rng.standard_normal(m) * np.exp(-t / rng.uniform(0.0002, 0.001)), prepend=0.0)
        y[:m] += 10 ** (tone.pick_noise_db / 20) * peak * click / max(np.abs(click).max(), 1e-9)
        scrape = lfilter([1.0, -1.0], [1.0], rng.standard_normal(len(y))) * np.abs(y) / max(peak, 1e-9)
        y += 10 ** (tone.string_noise_db / 20) * peak * scrape

    # 3. pickup position relative to the fretted length
    fretted_mm = SCALE_LENGTH_MM * 2.0 ** (-fret / 12.0)
    y = np.mean([y - _delayed(y, (d / fretted_mm) * period) for d in model.positions_mm], axis=0)

    # 4. pickup electrics
    b, a = _lowpass_biquad(model.resonance_hz, model.q, sr)
    y = lfilter(b, a, y) * model.gain * 0.45

    out = np.zeros(n)
    out[onset:] = y
    return add_recording_chain(out, pickup, sr=sr, rng=rng, pickup_type=pickup_type) if recording else out


def add_recording_chain(out: np.ndarray, pickup: str, *, sr: int, rng: np.random.Generator,
                        pickup_type: str = "single-coil") -> np.ndarray:
    """5. Mains hum (single coils only) and the noise floor, added once per recording."""
    model = pickup_model(pickup, pickup_type)
    n = len(out)
    t = np.arange(n) / sr
    if model.hum:
        hum_phase = rng.uniform(0, 2 * np.pi)
        out += 10 ** (-58 / 20) * sum(
            np.sin(2 * np.pi * 60 * k * t + hum_phase * k) / k for k in (1, 3, 5)
        )
    out += 10 ** (-72 / 20) * rng.standard_normal(n)
    return out


@dataclass(frozen=True)
class Tone:
    """What changes from guitar to guitar and player to player, drawn once per recording by :func:`random_tone`
    (domain randomization: a model trained on one calibrated Strat learns that Strat's spectrum as part of every
    effect; real guitars differ by more than the effects' own colour).

    ``string_loss`` scales the string's loss filter (new strings ring bright, 0.3; old ones dull, 1.2);
    ``pick_noise_db`` is the pick's click at each onset and ``string_noise_db`` the hiss that follows the string's
    motion (the winding under fingers and pick), both re the note's peak; then a guitar's and a DI box's tone
    stack: a low shelf at 200 Hz, a presence peak, a high shelf at 3 kHz (dB)."""

    string_loss: float = 1.0
    pick_noise_db: float = -20.0
    string_noise_db: float = -60.0
    low_shelf_db: float = 0.0
    presence_hz: float = 1000.0
    presence_db: float = 0.0
    high_shelf_db: float = 0.0


def random_tone(rng: np.random.Generator) -> Tone:
    return Tone(string_loss=rng.uniform(0.3, 1.2), pick_noise_db=rng.uniform(-10.0, 6.0),
                string_noise_db=rng.uniform(-45.0, -25.0),
                low_shelf_db=rng.uniform(-3.0, 12.0), presence_hz=float(np.exp(rng.uniform(np.log(400), np.log(3000)))),
                presence_db=rng.uniform(-6.0, 9.0), high_shelf_db=rng.uniform(-9.0, 9.0))


def apply_tone(y: np.ndarray, tone: Tone, sr: int) -> np.ndarray:
    """The tone stack of :class:`Tone` on a recording ``y``."""
    import pedalboard as pb

    board = pb.Pedalboard([pb.LowShelfFilter(cutoff_frequency_hz=200.0, gain_db=tone.low_shelf_db),
                           pb.PeakFilter(cutoff_frequency_hz=min(tone.presence_hz, 0.4 * sr),
                                         gain_db=tone.presence_db, q=0.9),
                           pb.HighShelfFilter(cutoff_frequency_hz=min(3000.0, 0.4 * sr), gain_db=tone.high_shelf_db)])
    return board(y.astype(np.float32), sr).astype(np.float64)


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


def _events(string: int, fret: int, style: str, duration_s: float, beat: float, rng: np.random.Generator):
    """``[(onset s, [(string, fret), …], sustain)]`` of one style from 0 to ``duration_s`` (see :func:`play`)."""
    events: list[tuple[float, list[tuple[int, int]], float]] = []
    root = OPEN_STRING_MIDI[string] + fret
    if style in ("single note", "double stop", "power chord", "strum"):
        # a real player keeps playing: the shape is struck again, moved along the neck, every half to four beats
        # until the clip ends; now and then it is left to ring (so a decaying note is no effect's signature)
        t, f = 0.0, fret
        while t < duration_s - 0.05:
            events.append((t, _shape(string, f, style, rng), 1.0))
            if t == 0.0 and rng.random() < 0.25:
                break
            t += beat * float(rng.choice([0.5, 1.0, 1.0, 2.0, 4.0]))
            moved = _fret_for(string, root + int(rng.choice([-5, -3, -2, 0, 2, 3, 5, 7])))
            f = fret if moved is None else moved
    elif style == "palm-muted chugs":
        step = beat / float(rng.choice([2, 4]))
        shape = _shape(string, fret, "power chord", rng) if rng.random() < 0.6 else [(string, fret)]
        t = 0.0
        while t < duration_s - 0.05:
            accent = rng.random() < 0.15
            events.append((t, shape, 1.0 if accent else rng.uniform(0.03, 0.08)))
            t += step
    else:  # riff: minor pentatonic from the first note, on this string and the next thinner one, to the end
        scale = [0, 3, 5, 7, 10, 12]
        t, first, pedal = 0.0, True, rng.random() < 0.6
        while t < duration_s - 0.05:
            midi = root if first else root + int(rng.choice(scale))
            s = string if first or rng.random() < 0.6 or string == 1 else string - 1
            f = _fret_for(s, midi)
            if f is None:
                s, f = string, fret
            events.append((t, [(s, f)], rng.uniform(0.04, 0.1) if rng.random() < 0.35 else 1.0))
            t += beat * float(rng.choice([0.25, 0.5, 0.5, 1.0]))
            first = False
            if pedal and t < duration_s - 0.05:  # the metal riff's pedal tone: the open low string, palm-muted
                events.append((t, [(6, 0)], rng.uniform(0.03, 0.08)))
                t += beat * float(rng.choice([0.25, 0.5]))
    return events


def pitch_curve_cents(n: int, sr: int, rng: np.random.Generator, *, sustain: float) -> np.ndarray:
    """A fretted note's pitch against time, in cents: a hard pluck starts sharp and settles (the string's tension
    rises with its amplitude: +3…+15 cents, decaying in 40–150 ms); a sustained note is sometimes given finger
    vibrato (5–7 Hz, ±8…±30 cents, from 0.15–0.5 s on) or bent up a semitone or a tone (bends: one in ten)."""
    t = np.arange(n) / sr
    cents = rng.uniform(3.0, 15.0) * np.exp(-t / rng.uniform(0.04, 0.15))
    if sustain >= 1.0:
        u = rng.random()
        start = rng.uniform(0.15, 0.5)
        ramp = np.clip((t - start) / 0.12, 0.0, 1.0)
        if u < 0.25:
            cents += rng.uniform(8.0, 30.0) * ramp * np.sin(2 * np.pi * rng.uniform(5.0, 7.0) * (t - start))
        elif u < 0.35:
            cents += float(rng.choice([100.0, 200.0])) * ramp
    return cents


def _bend(y: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """``y`` played back at the pitch ``cents`` above its own (a time warp, linear interpolation)."""
    pos = np.concatenate([[0.0], np.cumsum(2.0 ** (cents[:-1] / 1200.0))])
    return np.interp(pos, np.arange(len(y)), y, right=0.0)


def play(string: int, fret: int, pickup: str, *, sr: int, duration_s: float, rng: np.random.Generator,
         style: str | None = None, pickup_type: str = "single-coil", tone: Tone | None = None,
         tuning_semitones: int = 0, lead_in_s: float = 0.0) -> tuple[np.ndarray, str]:
    """A short piece of guitar playing that starts on ``string``/``fret`` (its lowest, first note): one of
    :data:`STYLES`, drawn from ``rng`` unless given.  Returns ``(waveform, style)``.

    Every style plays to the end of the clip, as a player does (a window cut from real playing is rarely one
    dying note): single notes, double stops, power chords and strums are struck again every half to four beats,
    moved along the string, or (one time in four) left to ring; power chords and strums are struck with the
    strings a few ms apart (a downstroke from the thick strings, or an upstroke); chugs are palm-muted power
    chords or roots repeated on eighth or sixteenth notes with an open accent now and then; a riff runs through
    the minor pentatonic around the first note in quarter to sixteenth notes, some palm-muted, often (three
    times in five) between palm-muted hits of the open low string (a pedal tone).  A string picked again stops
    its previous note (a 30 ms release), and so does a lifted finger before the end.  With a ``tone`` (a varied
    guitar) every note's pitch moves as a real string's does (:func:`pitch_curve_cents`).  Hum and the noise
    floor are added once.

    ``lead_in_s``: that much playing (another style, same tempo) comes first, so the clip's first note sounds
    over what was still ringing, as in a window cut from a performance; the waveform is then ``lead_in_s``
    longer, the clip proper at its end (cut it there after any effect, so the effect's tail is heard too).
    """
    style = style or str(rng.choice(STYLES))
    if style not in STYLES:
        raise ParameterError(f"style must be one of {STYLES}, got {style!r}")
    lead = int(round(lead_in_s * sr))
    n = int(round(duration_s * sr)) + lead
    beat = 60.0 / rng.uniform(80.0, 190.0)
    events = [(t + lead_in_s, shape, sustain) for t, shape, sustain in _events(string, fret, style, duration_s,
                                                                                beat, rng)]
    if lead:
        before = _events(int(rng.integers(4, 7)), int(rng.integers(0, 8)), str(rng.choice(STYLES)), lead_in_s,
                         beat, rng)
        events = [e for e in before if e[0] < lead_in_s - 0.05] + events
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
        if start > n - int(0.03 * sr):  # a strum's last string after the clip's end: not heard
            continue
        # rendered only while it sounds: until the string is picked again (or the clip ends), plus its release
        length = min(n - start, ends[i] - start + release + int(0.02 * sr))
        y = pluck_note(s, f, pickup, sr=sr, duration_s=length / sr, rng=rng, sustain=sustain,
                       recording=False, pickup_type=pickup_type, tone=tone,
                       tuning_semitones=tuning_semitones) * rng.uniform(0.7, 1.0)
        if tone is not None:
            y = _bend(y, pitch_curve_cents(len(y), sr, rng, sustain=sustain))
        stop = ends[i] - start
        if stop < len(y):
            fade = np.clip(1.0 - (np.arange(len(y)) - stop + release) / release, 0.0, 1.0)
            y = y * fade
        out[start:start + len(y)] += y[: n - start]
    if tone is not None:
        out = apply_tone(out, tone, sr)
    return add_recording_chain(out, pickup, sr=sr, rng=rng, pickup_type=pickup_type), style
