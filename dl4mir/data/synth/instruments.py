"""``instruments``: TinySOL-like orchestral notes with known f0, written in TinySOL's layout.

Layout (as the real TinySOL, so one reader serves both): ``audio/<Family>/<Instrument>/ordinario/
<abbr>-ord-<pitch>-<dynamics>-<string or N>-N.wav`` plus ``annotation/TinySOL_metadata.csv`` with TinySOL's
columns (official 5-fold split in ``Fold``).

Each note is additive synthesis of ``f0`` harmonics shaped by what makes the families differ acoustically:

* **bowed strings** (violin, viola, cello): Helmholtz motion (1/k harmonics) through body resonances that sit
  lower for the larger instruments, delayed vibrato, bow noise;
* **flute**: nearly sinusoidal with breath noise; **clarinet**: a closed cylinder, so even harmonics are weak in the
  low register; **oboe**: a conical reed with a nasal formant near 1.1 kHz;
* **brass** (trumpet, tuba): a bell formant, fast attack whose high harmonics enter late, and brightness that grows
  with dynamics (the brassy ``ff``).

Dynamics (pp, mf, ff) change both level and spectral tilt.  The label ``f0_hz`` is the exact synthesis frequency.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from dl4mir.data.egfxset import midi_to_hz, midi_to_note_name
from dl4mir.data.synth._writer import SynthConfig, write_dataset
from dl4mir.errors import ConfigError

TINYSOL_METADATA = "annotation/TinySOL_metadata.csv"
TINYSOL_HEADER = ["Path", "Fold", "Family", "Instrument (abbr.)", "Instrument (in full)", "Technique (abbr.)",
                  "Technique (in full)", "Pitch", "Pitch ID", "Dynamics", "Dynamics ID", "Instance ID",
                  "String ID (if applicable)", "Needed digital retuning"]
DYNAMICS = {"pp": (0, 0.12, -0.5), "mf": (2, 0.3, 0.0), "ff": (4, 0.6, 0.35)}  # id, amplitude, tilt exponent


@dataclass(frozen=True)
class Instrument:
    abbr: str
    full: str
    folder: str
    family: str
    low_midi: int
    high_midi: int
    open_strings: tuple[int, ...]  # MIDI of strings I, II, ... (highest first); empty for winds and brass
    formants: tuple[tuple[float, float, float], ...]  # (centre Hz, bandwidth Hz, gain)
    rolloff: float  # harmonic k amplitude ∝ k**-rolloff before formants
    even_gain: float  # clarinet-like suppression of even harmonics (1 = none)
    attack_s: float
    vibrato: tuple[float, float]  # (rate Hz, depth in semitones)
    noise: float  # bow / breath noise level relative to the note


INSTRUMENTS = (
    Instrument("Vn", "Violin", "Violin", "Strings", 55, 93, (76, 69, 62, 55),
               ((290, 120, 1.0), (480, 200, 0.7), (3000, 1500, 0.8)), 1.0, 1.0, 0.08, (5.6, 0.22), 0.02),
    Instrument("Va", "Viola", "Viola", "Strings", 48, 84, (69, 62, 55, 48),
               ((230, 100, 1.0), (380, 180, 0.8), (2200, 1200, 0.6)), 1.05, 1.0, 0.09, (5.3, 0.2), 0.02),
    Instrument("Vc", "Violoncello", "Violoncello", "Strings", 36, 76, (57, 50, 43, 36),
               ((110, 60, 1.0), (220, 120, 0.9), (1500, 900, 0.5)), 1.1, 1.0, 0.1, (5.0, 0.2), 0.02),
    Instrument("Fl", "Flute", "Flute", "Winds", 60, 96, (),
               ((800, 2000, 0.3),), 2.6, 1.0, 0.06, (5.0, 0.12), 0.06),
    Instrument("ClBb", "Clarinet in Bb", "Clarinet_Bb", "Winds", 50, 89, (),
               ((1500, 1500, 0.4),), 1.2, 0.08, 0.04, (0.0, 0.0), 0.01),
    Instrument("Ob", "Oboe", "Oboe", "Winds", 58, 91, (),
               ((1100, 500, 1.0), (2900, 800, 0.5)), 0.6, 1.0, 0.03, (5.0, 0.08), 0.01),
    Instrument("TpC", "Trumpet in C", "Trumpet_C", "Brass", 54, 84, (),
               ((1300, 1400, 1.0), (3000, 1500, 0.4)), 0.7, 1.0, 0.03, (4.5, 0.04), 0.005),
    Instrument("BTb", "Bass Tuba", "Bass_Tuba", "Brass", 29, 65, (),
               ((280, 250, 1.0), (600, 400, 0.3)), 2.2, 1.0, 0.06, (0.0, 0.0), 0.001),
)
INSTRUMENT_BY_ABBR = {i.abbr: i for i in INSTRUMENTS}


@dataclass(frozen=True)
class InstrumentsConfig(SynthConfig):
    sample_rate: int = 16000
    duration_s: float = 1.5
    instruments: tuple[str, ...] = tuple(i.abbr for i in INSTRUMENTS)
    dynamics: tuple[str, ...] = ("pp", "mf", "ff")
    pitch_step: int = 1  # every semitone of each instrument's range
    seed: int = 0
    subtype: str = "PCM_16"

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"duration_s": 1.0, "pitch_step": 3},
        "default": {},
        "full": {"sample_rate": 44100, "duration_s": 3.0},
    }

    def __post_init__(self):
        problems = [f"unknown instrument {a!r}" for a in self.instruments if a not in INSTRUMENT_BY_ABBR]
        problems += [f"unknown dynamics {d!r}" for d in self.dynamics if d not in DYNAMICS]
        if self.sample_rate < 8000:
            problems.append(f"sample_rate {self.sample_rate} Hz is below 8000 Hz")
        if not 0.3 <= self.duration_s <= 30:
            problems.append(f"duration_s {self.duration_s} is outside 0.3..30 s")
        if self.pitch_step < 1:
            problems.append("pitch_step must be >= 1")
        if not self.instruments or not self.dynamics:
            problems.append("instruments and dynamics must not be empty")
        if problems:
            raise ConfigError("instruments config: " + "; ".join(problems))


    def notes(self) -> list[tuple[str, int, str]]:
        return [(a, m, d) for a in self.instruments
                for m in range(INSTRUMENT_BY_ABBR[a].low_midi, INSTRUMENT_BY_ABBR[a].high_midi + 1, self.pitch_step)
                for d in self.dynamics]



def string_for(inst: Instrument, midi: int) -> int | None:
    """Which string (1 = highest) a player would use: the highest string whose open pitch is at or below."""
    if not inst.open_strings:
        return None
    for number, open_midi in enumerate(inst.open_strings, start=1):
        if midi >= open_midi:
            return number
    return len(inst.open_strings)


def relpath_for(inst: Instrument, midi: int, dyn: str) -> str:
    s = string_for(inst, midi)
    token = f"{s}c" if s else "N"
    return f"{inst.family}/{inst.folder}/ordinario/{inst.abbr}-ord-{midi_to_note_name(midi)}-{dyn}-{token}-N.wav"


def synthesize_note(inst: Instrument, midi: int, dyn: str, *, sr: int, duration_s: float,
                    rng: np.random.Generator) -> np.ndarray:
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    f0 = midi_to_hz(midi)
    _, amp, tilt = DYNAMICS[dyn]
    rate, depth = inst.vibrato
    vib_env = np.clip((t - 0.25) / 0.3, 0, 1)  # players start vibrato after the attack
    f_inst = f0 * 2.0 ** (depth / 12 * vib_env * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)))
    phase = 2 * np.pi * np.cumsum(f_inst) / sr
    k = np.arange(1, max(2, min(60, int(0.45 * sr / f0))) + 1)
    fk = k * f0
    a = k ** (-inst.rolloff + tilt) * np.where(k % 2 == 0, inst.even_gain, 1.0)
    body = 0.15 + sum(g / (1 + ((fk - c) / (bw / 2)) ** 2) for c, bw, g in inst.formants)
    a = a * body
    a /= np.sqrt(np.sum(a ** 2))
    # attack: brass high harmonics enter late; others share one attack
    stagger = 0.12 if inst.family == "Brass" else 0.0
    att = inst.attack_s * (1 + stagger * (k - 1))[:, None]
    env = np.clip(t[None, :] / att, 0, 1) ** 2
    release = np.clip((duration_s - 0.05 - t) / 0.1, 0, 1)
    tone = np.einsum("k,kn->n", a, env * np.sin(k[:, None] * phase[None, :] + rng.uniform(0, 2 * np.pi, len(k))[:, None]))
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0) if inst.family == "Strings" else noise  # bow noise is bright
    y = (tone + inst.noise * 3 * noise * np.clip(t / inst.attack_s, 0, 1)) * release
    y *= amp * rng.uniform(0.9, 1.1) / max(np.abs(y).max(), 1e-9) * 1.6
    return y * np.exp(-0.15 * t)  # slow decay of a held note


def render_note(task, config: InstrumentsConfig):
    abbr, midi, dyn = task
    inst = INSTRUMENT_BY_ABBR[abbr]
    rng = np.random.default_rng([config.seed, INSTRUMENTS.index(inst), midi, DYNAMICS[dyn][0]])
    y = synthesize_note(inst, midi, dyn, sr=config.sample_rate, duration_s=config.duration_s, rng=rng)
    return [(f"audio/{relpath_for(inst, midi, dyn)}", y)]


def write_metadata(root: Path, config: InstrumentsConfig) -> None:
    """TinySOL_metadata.csv; folds rotate through pitch and dynamics so each fold spans every range."""
    path = root / TINYSOL_METADATA
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(TINYSOL_HEADER)
        for i, (abbr, midi, dyn) in enumerate(config.notes()):
            inst = INSTRUMENT_BY_ABBR[abbr]
            s = string_for(inst, midi)
            fold = (midi - inst.low_midi + DYNAMICS[dyn][0] // 2) % 5
            w.writerow([relpath_for(inst, midi, dyn), fold, inst.family, abbr, inst.full, "ord", "ordinario",
                        midi_to_note_name(midi), midi, dyn, DYNAMICS[dyn][0], 0, "" if s is None else f"{s}.0",
                        "FALSE"])


def generate(root: str | Path, config: InstrumentsConfig | None = None, *, workers: int | None = None,
             show_progress: bool | None = None) -> Path:
    config = config or InstrumentsConfig()
    return write_dataset(
        Path(root), name="instruments", config=config, tasks=config.notes(),
        render=partial(render_note, config=config), sample_rate=config.sample_rate, subtype=config.subtype,
        extra_files=lambda r, _: write_metadata(r, config), workers=workers, show_progress=show_progress,
        clip_id=lambda rel: Path(rel).stem,  # mirdata's TinySOL ids are file stems
    )
