"""``rhythms``: synthetic drum grooves with known tempo, beats and meter, for the tempo lessons.

Each clip is one groove played by one drum kit at one tempo: kick, snare, hi-hats, toms and hand percussion
synthesized from scratch (a kick is a sine whose pitch falls from ~150 to ~50 Hz; a snare a noise burst plus a
tuned body; hats are high-passed noise; toms are pitched decays), placed on a 16-step grid per bar with the style's
pattern, humanized (timing jitter of a few milliseconds, velocity variation), with a tom fill closing every fourth
bar and an optional bass line on the beats.  Styles: rock, funk, shuffle (swung eighths), bossa, waltz (3/4),
halftime (snare on 3), electronic (four on the floor).  Tempo is drawn log-uniformly over 40–240 BPM, or from a
GTZAN-like distribution (log-normal around 115 BPM) — the two training distributions Morais et al. compare.

Layout: GTZAN's, so ``gtzan:PATH`` and ``rhythms`` are read by the same reader —
``gtzan_genre/genres/<style>/<style>.000NN.wav``, ``gtzan_tempo_beat-main/tempo/gtzan_<style>_000NN.bpm`` (one
number) and ``gtzan_tempo_beat-main/beats/gtzan_<style>_000NN.beats`` (``time<TAB>position in the bar`` per beat).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from dl4mir.data.synth._writer import SynthConfig, write_dataset
from dl4mir.errors import ConfigError

# steps per bar (16 = sixteenths in 4/4, 12 = sixteenths in 3/4) and (voice, step, velocity) hits per bar
STYLES = {
    "rock": (16, [("kick", 0, 1.0), ("kick", 8, 0.9), ("snare", 4, 1.0), ("snare", 12, 1.0)]
             + [("hat", s, 0.7 if s % 4 else 0.9) for s in range(0, 16, 2)]),
    "funk": (16, [("kick", 0, 1.0), ("kick", 3, 0.7), ("kick", 10, 0.9), ("snare", 4, 1.0), ("snare", 12, 1.0),
                  ("snare", 7, 0.25), ("snare", 9, 0.25)] + [("hat", s, 0.8 if s % 2 == 0 else 0.45)
                                                             for s in range(16)]),
    "shuffle": (16, [("kick", 0, 1.0), ("kick", 8, 0.9), ("snare", 4, 1.0), ("snare", 12, 1.0)]
                + [("hat", s, 0.8 if s % 4 == 0 else 0.55) for s in range(0, 16, 2)]),
    "bossa": (16, [("kick", s, 0.6) for s in (0, 3, 4, 7, 8, 11, 12, 15)]
              + [("clave", s, 0.8) for s in (0, 3, 6, 10, 12)] + [("hat", s, 0.4) for s in range(0, 16, 2)]),
    "waltz": (12, [("kick", 0, 1.0), ("snare", 4, 0.8), ("snare", 8, 0.8)]
              + [("hat", s, 0.6) for s in range(0, 12, 2)]),
    "halftime": (16, [("kick", 0, 1.0), ("kick", 10, 0.8), ("snare", 8, 1.0)]
                 + [("hat", s, 0.7) for s in range(0, 16, 2)]),
    "electronic": (16, [("kick", s, 1.0) for s in (0, 4, 8, 12)] + [("open_hat", s, 0.6) for s in (2, 6, 10, 14)]
                   + [("snare", 4, 0.9), ("snare", 12, 0.9)]),
}
SWING = {"shuffle": 2 / 3}  # the off-beat eighth lands at 2/3 of the beat (a triplet feel) instead of 1/2
KITS = (  # (kick top Hz, kick low Hz, snare body Hz, decay scale, brightness) — four different-sounding kits
    (160.0, 50.0, 190.0, 1.0, 1.0), (120.0, 45.0, 170.0, 1.4, 0.7), (190.0, 60.0, 230.0, 0.7, 1.3),
    (140.0, 40.0, 200.0, 1.1, 0.9),
)
TEMPO_RANGE = (40.0, 240.0)


@dataclass(frozen=True)
class RhythmsConfig(SynthConfig):
    """What to render.  ``tempo_distribution``: ``"log-uniform"`` over 40–240 BPM or ``"gtzan"`` (log-normal
    around 115 BPM, as GTZAN's annotations are distributed)."""

    sample_rate: int = 22050
    duration_s: float = 12.0
    styles: tuple[str, ...] = tuple(STYLES)
    clips_per_style: int = 40
    tempo_distribution: str = "log-uniform"
    bass: bool = True
    seed: int = 0
    subtype: str = "PCM_16"

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"duration_s": 6.0, "clips_per_style": 8},
        "default": {},
        "full": {"duration_s": 30.0, "clips_per_style": 100},
    }

    def __post_init__(self):
        problems = [f"unknown style {s!r} (known: {', '.join(STYLES)})" for s in self.styles if s not in STYLES]
        if not self.styles:
            problems.append("styles is empty")
        if self.tempo_distribution not in ("log-uniform", "gtzan"):
            problems.append(f"tempo_distribution {self.tempo_distribution!r} is not 'log-uniform' or 'gtzan'")
        if not 3.0 <= self.duration_s <= 60.0:
            problems.append(f"duration_s {self.duration_s} is outside 3..60 s")
        if self.clips_per_style < 1:
            problems.append("clips_per_style must be at least 1")
        if self.sample_rate < 8000:
            problems.append(f"sample_rate {self.sample_rate} Hz is below 8000 Hz")
        if problems:
            raise ConfigError("rhythms config: " + "; ".join(problems))

    def tasks(self) -> list[tuple[str, int]]:
        return [(style, i) for style in self.styles for i in range(self.clips_per_style)]


def draw_tempo(rng: np.random.Generator, distribution: str) -> float:
    lo, hi = TEMPO_RANGE
    if distribution == "gtzan":
        return float(np.clip(np.exp(rng.normal(np.log(115.0), 0.25)), lo, hi))
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _decay(n: int, sr: int, seconds: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (seconds * sr))


def drum_voices(sr: int, kit: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One sample per voice of ``kit``, peak ≈ 1."""
    top, low, body, dscale, bright = KITS[kit]
    t = np.arange(int(0.5 * sr)) / sr
    # kick: a sine sweeping down exponentially, plus a short click for the beater
    f = low + (top - low) * np.exp(-t / 0.03)
    kick = np.sin(2 * np.pi * np.cumsum(f) / sr) * _decay(len(t), sr, 0.12 * dscale)
    kick[: int(0.003 * sr)] += 0.5 * rng.standard_normal(int(0.003 * sr))
    # snare: a tuned body and a noise burst (the wires), brighter with `bright`
    noise = rng.standard_normal(len(t))
    snare = 0.5 * np.sin(2 * np.pi * body * t) * _decay(len(t), sr, 0.05 * dscale)
    snare += np.diff(noise, prepend=0) * 0.5 * bright * _decay(len(t), sr, 0.09 * dscale)
    hat_noise = np.diff(np.diff(rng.standard_normal(len(t)), prepend=0), prepend=0)  # second difference: highs
    hat = hat_noise * _decay(len(t), sr, 0.025 * dscale)
    open_hat = hat_noise * _decay(len(t), sr, 0.18 * dscale)
    tom = np.sin(2 * np.pi * (body * 0.7) * (1 + 0.3 * np.exp(-t / 0.05)) * t) * _decay(len(t), sr, 0.2 * dscale)
    clave = np.sin(2 * np.pi * 2500 * bright * t) * _decay(len(t), sr, 0.015)
    voices = {"kick": kick, "snare": snare, "hat": hat, "open_hat": open_hat, "tom": tom, "clave": clave}
    return {k: v / np.abs(v).max() for k, v in voices.items()}


def render(task: tuple[str, int], config: RhythmsConfig) -> list[tuple[str, np.ndarray, dict]]:
    """One groove: ``[(relpath, waveform, {"bpm", "beats", "meter"})]``."""
    style, index = task
    rng = np.random.default_rng([config.seed, list(STYLES).index(style), index])
    sr, n = config.sample_rate, int(config.duration_s * config.sample_rate)
    bpm = draw_tempo(rng, config.tempo_distribution)
    steps, pattern = STYLES[style]
    meter = steps // 4
    beat_s = 60.0 / bpm
    swing = SWING.get(style, 0.5)
    voices = drum_voices(sr, int(rng.integers(len(KITS))), rng)
    start = float(rng.uniform(0.0, beat_s))  # the first downbeat is not always at 0
    y = np.zeros(n + sr)
    gains = {"kick": 1.0, "snare": 0.8, "hat": 0.35, "open_hat": 0.3, "tom": 0.7, "clave": 0.4}

    def hit(voice: str, when_s: float, velocity: float) -> None:
        when_s += rng.normal(0.0, 0.004)  # a drummer's timing is a few milliseconds off the grid
        i = int(round(when_s * sr))
        if 0 <= i < n:
            v = voices[voice] * gains[voice] * velocity * rng.uniform(0.85, 1.15)
            y[i:i + len(v)] += v[: len(y) - i]

    def step_time(bar_start: float, step: int) -> float:
        beat, sub = divmod(step, 4)
        frac = {0: 0.0, 1: 0.25, 2: swing, 3: 0.75 if swing == 0.5 else swing + (1 - swing) / 2}[sub]
        return bar_start + (beat + frac) * beat_s

    beats = []
    bar = 0
    while start + bar * meter * beat_s < config.duration_s:
        bar_start = start + bar * meter * beat_s
        fill = bar % 4 == 3 and rng.random() < 0.7
        for voice, step, velocity in pattern:
            if fill and step >= steps // 2 and voice != "kick":
                continue  # the fill replaces the second half of the bar
            hit(voice, step_time(bar_start, step), velocity)
        if fill:
            for step in range(steps // 2, steps):
                hit("tom" if step % 2 == 0 else "snare", step_time(bar_start, step), 0.6 + 0.4 * step / steps)
        for b in range(meter):
            t = bar_start + b * beat_s
            if t < config.duration_s:
                beats.append((t, b + 1))
        bar += 1
    if config.bass:  # root and fifth on the first beats of each bar, a sawtooth-ish tone
        f0 = 55.0 * 2 ** (rng.integers(0, 12) / 12)
        tb = np.arange(int(beat_s * 0.9 * sr)) / sr
        for t_beat, pos in beats:
            freq = f0 if pos == 1 else f0 * 1.5
            note = sum(np.sin(2 * np.pi * k * freq * tb) / k for k in range(1, 6)) * _decay(len(tb), sr, 0.25)
            i = int(t_beat * sr)
            y[i:i + len(note)] += 0.25 * note[: len(y) - i]
    y = y[:n]
    y *= 0.5 / max(np.abs(y).max(), 1e-9)
    name = f"{style}.{index:05d}"
    return [(f"gtzan_genre/genres/{style}/{name}.wav", y, {"bpm": bpm, "beats": beats, "meter": meter})]


def annotation_paths(relpath: str) -> dict[str, str]:
    """The tempo and beat files that belong to an audio file, in GTZAN's tempo-annotation layout."""
    style, num = Path(relpath).stem.split(".")
    return {"tempo": f"gtzan_tempo_beat-main/tempo/gtzan_{style}_{num}.bpm",
            "beats": f"gtzan_tempo_beat-main/beats/gtzan_{style}_{num}.beats"}


def write_annotations(root: Path, metas: dict[str, dict]) -> None:
    for relpath, meta in metas.items():
        paths = annotation_paths(relpath)
        for kind, text in (("tempo", f"{meta['bpm']:.4f}\n"),
                           ("beats", "".join(f"{t:.4f}\t{pos}\n" for t, pos in meta["beats"]))):
            path = root / paths[kind]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def generate(root: str | Path, config: RhythmsConfig | None = None, *, workers: int | None = None,
             show_progress: bool | None = None) -> Path:
    """Write the dataset into ``root`` (skipped if ``root`` already holds this exact config)."""
    config = config or RhythmsConfig()
    return write_dataset(
        Path(root), name="rhythms", config=config, tasks=config.tasks(), render=partial(render, config=config),
        sample_rate=config.sample_rate, subtype=config.subtype, extra_files=write_annotations,
        annotations=annotation_paths, clip_id=lambda rel: Path(rel).stem, workers=workers,
        show_progress=show_progress,
    )
