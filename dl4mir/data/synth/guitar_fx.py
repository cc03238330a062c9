"""``guitar-fx``: a synthetic EGFxSet, written in EGFxSet's exact layout so one reader serves both.

Each (string, fret, pickup) note is rendered once by :func:`~dl4mir.data.synth.guitar.pluck_note` and then run
through Clean and the 12 effects, giving ``<EffectFolder>/<Pickup>/<string>-<fret>.wav`` plus the real
``egfxset_metadata.csv``.  ``GuitarFxConfig.profile("full")`` reproduces the real dataset's size: 13 × 5 × 138 =
8,970 files, 48 kHz, 5 s, 24-bit.

Beyond EGFxSet (the ``guitar-fx-playing`` dataset sets them all): ``playing="phrases"`` (playing that starts on
the clip's note instead of the note alone), ``pickup_types``, ``tunings``, ``tone="varied"`` and
``knobs="varied"`` draw per clip what real recordings vary in, so a model cannot learn one guitar as part of every
effect.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from dl4mir.data.egfxset import EFFECTS, FRETS, METADATA_FILE, OPEN_STRING_MIDI, PICKUPS, write_metadata_csv
from dl4mir.data.synth._writer import SynthConfig, write_dataset
from dl4mir.data.synth.effects import apply_effect
from dl4mir.data.synth.guitar import PICKUP_TYPES, PLAYING, apply_tone, play, pluck_note, random_tone
from dl4mir.errors import ConfigError

_ALL_STRINGS = tuple(sorted(OPEN_STRING_MIDI))
_ALL_EFFECTS = tuple(e.folder for e in EFFECTS)


@dataclass(frozen=True)
class GuitarFxConfig(SynthConfig):
    """What to render.  ``seed`` makes every note and every effect's random modulation phase reproducible."""

    sample_rate: int = 16000
    duration_s: float = 2.0
    strings: tuple[int, ...] = _ALL_STRINGS
    frets: tuple[int, ...] = tuple(range(0, 23, 2))
    pickups: tuple[str, ...] = PICKUPS
    effects: tuple[str, ...] = _ALL_EFFECTS
    knobs: str = "egfxset"  # or "varied": each clip's settings drawn around the pedal's (effects.apply_effect)
    playing: str = "notes"  # or "phrases": chords, strums, chugs, riffs starting on the note (guitar.play)
    pickup_types: tuple[str, ...] = ("single-coil",)  # each note's guitar drawn from these (EGFxSet: a Strat)
    tone: str = "strat"  # or "varied": strings, pick scrape and tone stack drawn per note (guitar.random_tone)
    tunings: tuple[int, ...] = (0,)  # semitones, each note's drawn from these: (0, -2, -5) adds D and low-B tunings
    level: str = "matched"  # or "as rendered": each effect's output at whatever level its DSP leaves it
    level_range_db: tuple[float, float] = (-32.0, -18.0)  # RMS of a note's versions, drawn once per note
    seed: int = 0
    subtype: str = "PCM_16"

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"duration_s": 1.0, "frets": (0, 5, 10, 15), "pickups": ("Bridge", "Middle", "Neck")},
        "default": {},
        "full": {"sample_rate": 48000, "duration_s": 5.0, "frets": FRETS, "subtype": "PCM_24"},
    }

    def __post_init__(self):
        problems = []
        if self.sample_rate < 8000:
            problems.append(f"sample_rate {self.sample_rate} Hz is below 8000 Hz")
        if not 0.1 <= self.duration_s <= 30:
            problems.append(f"duration_s {self.duration_s} is outside 0.1..30 s")
        problems += [f"unknown string {s}" for s in self.strings if s not in OPEN_STRING_MIDI]
        problems += [f"unknown fret {f}" for f in self.frets if f not in FRETS]
        problems += [f"unknown pickup {p!r}" for p in self.pickups if p not in PICKUPS]
        problems += [f"unknown effect {e!r}" for e in self.effects if e not in _ALL_EFFECTS]
        if self.knobs not in ("egfxset", "varied"):
            problems.append(f"knobs {self.knobs!r} is not 'egfxset' or 'varied'")
        problems += [f"unknown pickup type {t!r} (known: {', '.join(PICKUP_TYPES)})" for t in self.pickup_types
                     if t not in PICKUP_TYPES]
        problems += [f"tuning {t} is outside -12..0 semitones" for t in self.tunings if not -12 <= int(t) <= 0]
        if self.tone not in ("strat", "varied"):
            problems.append(f"tone {self.tone!r} is not 'strat' or 'varied'")
        if self.playing not in PLAYING:
            problems.append(f"playing {self.playing!r} is not one of {', '.join(PLAYING)}")
        if self.level not in ("matched", "as rendered"):
            problems.append(f"level {self.level!r} is not 'matched' or 'as rendered'")
        lo, hi = self.level_range_db
        if not -60.0 <= lo <= hi <= -6.0:
            problems.append(f"level_range_db {self.level_range_db} is not an RMS range within -60..-6 dBFS")
        for name in ("strings", "frets", "pickups", "effects", "pickup_types", "tunings"):
            if not getattr(self, name):
                problems.append(f"{name} is empty")
        if problems:
            raise ConfigError("guitar-fx config: " + "; ".join(problems))


    @property
    def n_files(self) -> int:
        return len(self.strings) * len(self.frets) * len(self.pickups) * len(self.effects)

    @property
    def audio_seconds(self) -> float:
        return self.n_files * self.duration_s



def _one_of(options: tuple, rng: np.random.Generator):
    """One of ``options``; a single option draws nothing, so EGFxSet's own settings keep their random stream."""
    return options[0] if len(options) == 1 else options[int(rng.integers(len(options)))]


def render_note(task: tuple[int, int, str], config: GuitarFxConfig) -> list[tuple[str, np.ndarray]]:
    """One note through every configured effect: ``[(relpath, waveform), ...]``."""
    string, fret, pickup = task
    pickup_idx = PICKUPS.index(pickup)
    rng = np.random.default_rng([config.seed, string, fret, pickup_idx])
    guitar = {"pickup_type": str(_one_of(config.pickup_types, rng)),
              "tone": random_tone(rng) if config.tone == "varied" else None,
              "tuning_semitones": int(_one_of(config.tunings, rng))}
    tone = guitar["tone"]
    lead = 0
    if config.playing == "phrases":
        # two clips in three are cut from the middle of playing: something still rings (and echoes) at the start
        lead_in_s = rng.uniform(0.2, 0.6) if rng.random() < 0.67 else 0.0
        dry, _ = play(string, fret, pickup, sr=config.sample_rate, duration_s=config.duration_s, rng=rng,
                      lead_in_s=lead_in_s, **guitar)
        lead = len(dry) - int(round(config.duration_s * config.sample_rate))
    else:
        dry = pluck_note(string, fret, pickup, sr=config.sample_rate, duration_s=config.duration_s, rng=rng,
                         **guitar)
        dry = dry if tone is None else apply_tone(dry, tone, config.sample_rate)
    out = []
    for effect in config.effects:
        rng = np.random.default_rng([config.seed, string, fret, pickup_idx, _ALL_EFFECTS.index(effect) + 1])
        wet = apply_effect(effect, dry, config.sample_rate, rng, vary=config.knobs == "varied")
        out.append((f"{effect}/{pickup}/{string}-{fret}.wav", wet[lead:]))
    if config.level == "matched":
        level_rng = np.random.default_rng([config.seed, string, fret, pickup_idx, 0])
        versions = match_levels([y for _, y in out], level_rng, config.level_range_db)
        out = [(path, y) for (path, _), y in zip(out, versions)]
    return out


def match_levels(versions: list[np.ndarray], rng: np.random.Generator, range_db: tuple[float, float],
                 max_peak: float = 0.98) -> list[np.ndarray]:
    """Every version of one note (clean and through each effect) at one RMS level, drawn in ``range_db`` once per
    note and lowered where needed so the peakiest version stays below ``max_peak``: a recording session's level
    normalization, so loudness says nothing about the effect (an effect's distortion changes its *crest factor*,
    which it does on real pedals too, and stays)."""
    rms = [float(np.std(y)) for y in versions]
    if min(rms) <= 0 or not all(np.isfinite(rms)):
        raise AssertionError("an effect rendered a silent or non-finite note")  # a generator bug, not a user's
    target = 10 ** (rng.uniform(*range_db) / 20)
    target = min(target, max_peak / max(float(np.abs(y - y.mean()).max()) / r for y, r in zip(versions, rms)))
    return [(y - y.mean()) * (target / r) for y, r in zip(versions, rms)]  # and no offset: AC-coupled recording


def generate(root: str | Path, config: GuitarFxConfig | None = None, *, workers: int | None = None,
             show_progress: bool | None = None) -> Path:
    """Write the dataset into ``root`` (skipped if ``root`` already holds this exact config)."""
    config = config or GuitarFxConfig()
    tasks = [(s, f, p) for s in config.strings for f in config.frets for p in config.pickups]
    return write_dataset(
        Path(root), name="guitar-fx", config=config, tasks=tasks, render=partial(render_note, config=config),
        sample_rate=config.sample_rate, subtype=config.subtype,
        extra_files=lambda r, _: write_metadata_csv(r / METADATA_FILE), workers=workers, show_progress=show_progress,
    )
