"""``vowels``: formant-synthesized consonant–vowel syllables for the softmax lesson (PCVC-like: 6 Persian vowels).

Each clip is a CV syllable from one speaker: a glottal source (Rosenberg-style pulse with jitter and shimmer, f0
from the speaker's range with a falling intonation), a consonant onset (plosive burst, fricative noise or nasal
murmur) and formant transitions from the consonant's locus into the vowel's F1–F4 targets through a Klatt cascade.
Speakers differ in vocal-tract length (formant scale) and f0, so holding out speakers is a real test.

Layout: ``<speaker>/<consonant><vowel>_<take>.wav`` plus ``vowels_metadata.csv`` (path, speaker, sex, consonant,
vowel, take, f0_hz, vowel_onset_s).  This layout is dl4mir's own; PCVC itself is not bundled.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from dl4mir.data.synth._kernels import formant_cascade
from dl4mir.data.synth._writer import SynthConfig, write_dataset
from dl4mir.errors import ConfigError

METADATA_FILE = "vowels_metadata.csv"
METADATA_HEADER = ["path", "speaker", "sex", "consonant", "vowel", "take", "f0_hz", "vowel_onset_s"]

# Adult-male formant targets (Hz) for the six Persian vowels (after Nadeu/Ghaffarvand-Mokari-style measurements).
VOWELS = {
    "a": (750, 1600, 2550, 3500),   # /æ/
    "aa": (700, 1100, 2500, 3400),  # /ɒ/, written â in Persian romanization; ASCII keeps file names portable
    "e": (500, 1800, 2550, 3500),
    "i": (300, 2250, 2950, 3700),
    "o": (500, 900, 2450, 3400),
    "u": (330, 850, 2350, 3300),
}
VOWEL_NAMES = tuple(VOWELS)
# consonant: (kind, F2 locus Hz, noise centre Hz)
CONSONANTS = {
    "b": ("plosive", 800, 600), "d": ("plosive", 1700, 3500), "g": ("plosive", 2200, 2200),
    "p": ("plosive", 800, 700), "t": ("plosive", 1800, 4000), "k": ("plosive", 2300, 2000),
    "s": ("fricative", 1700, 5500), "sh": ("fricative", 2000, 2800), "f": ("fricative", 1100, 4000),
    "m": ("nasal", 900, 250), "n": ("nasal", 1700, 250), "l": ("approximant", 1300, 0),
}
SEXES = {"m": (1.0, (90, 150)), "f": (1.17, (170, 250)), "c": (1.3, (230, 300))}  # formant scale, f0 range


@dataclass(frozen=True)
class VowelsConfig(SynthConfig):
    sample_rate: int = 16000
    duration_s: float = 0.8
    n_speakers: int = 12
    consonants: tuple[str, ...] = tuple(CONSONANTS)
    takes: int = 1
    seed: int = 0
    subtype: str = "PCM_16"

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"n_speakers": 8, "consonants": ("b", "t", "s", "m", "k", "l")},
        "default": {},
        "full": {"n_speakers": 24, "takes": 2},
    }

    def __post_init__(self):
        problems = [f"unknown consonant {c!r}" for c in self.consonants if c not in CONSONANTS]
        if self.n_speakers < 2:
            problems.append("n_speakers must be >= 2 (speakers are the held-out groups)")
        if self.takes < 1:
            problems.append("takes must be >= 1")
        if not 0.3 <= self.duration_s <= 5:
            problems.append(f"duration_s {self.duration_s} is outside 0.3..5 s")
        if self.sample_rate < 8000:
            problems.append(f"sample_rate {self.sample_rate} Hz is below 8000 Hz")
        if problems:
            raise ConfigError("vowels config: " + "; ".join(problems))


    def speakers(self) -> list[tuple[str, str]]:
        sexes = "mfc"
        return [(f"spk{i:02d}{sexes[i % 3]}", sexes[i % 3]) for i in range(self.n_speakers)]

    def tasks(self) -> list[tuple[str, str, str, str, int]]:
        return [(spk, sex, c, v, take) for spk, sex in self.speakers() for c in self.consonants
                for v in VOWEL_NAMES for take in range(self.takes)]



def _speaker_params(speaker: str, sex: str, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng([seed, int(speaker[3:-1])])
    scale, (lo, hi) = SEXES[sex]
    return scale * rng.uniform(0.94, 1.06), rng.uniform(lo, hi)


def _glottal_source(f0_track: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Rosenberg-like pulse train with 1% jitter and 5% shimmer, differentiated (lip radiation)."""
    n = len(f0_track)
    out = np.zeros(n)
    pos = 0.0
    while pos < n:
        f0 = f0_track[int(pos)] * (1 + 0.01 * rng.standard_normal())
        period = sr / f0
        open_len = int(0.6 * period)
        i0 = int(pos)
        seg = np.arange(min(open_len, n - i0))
        amp = 1 + 0.05 * rng.standard_normal()
        out[i0:i0 + len(seg)] += amp * np.sin(np.pi * seg / max(open_len, 1)) ** 2
        pos += period
    return np.diff(out, prepend=0.0)


def synthesize_syllable(speaker: str, sex: str, consonant: str, vowel: str, take: int, *, sr: int,
                        duration_s: float, seed: int) -> tuple[np.ndarray, float, float]:
    """Return ``(waveform, mean f0 Hz, vowel onset s)``."""
    from scipy.signal import butter, sosfilt


    rng = np.random.default_rng([seed, int(speaker[3:-1]), list(CONSONANTS).index(consonant),
                                 VOWEL_NAMES.index(vowel), take])
    scale, f0_speaker = _speaker_params(speaker, sex, seed)
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    kind, locus, noise_hz = CONSONANTS[consonant]
    start = rng.uniform(0.03, 0.08)
    cons_len = {"plosive": 0.03, "fricative": 0.12, "nasal": 0.07, "approximant": 0.05}[kind]
    onset = start + cons_len
    vowel_end = min(duration_s - 0.05, onset + rng.uniform(0.35, 0.5))
    f0 = f0_speaker * (1 + 0.04 * rng.standard_normal()) * (1.05 - 0.12 * np.clip((t - onset) / 0.5, 0, 1))

    targets = np.array(VOWELS[vowel], dtype=float) * scale * (1 + 0.03 * rng.standard_normal(4))
    trans = np.clip((t - onset) / 0.05, 0, 1)  # 50 ms consonant-to-vowel transition
    freqs = np.repeat(targets[:, None], n, axis=1)
    freqs[1] = locus * scale + (targets[1] - locus * scale) * trans
    freqs[0] = targets[0] * (0.6 + 0.4 * trans)  # F1 rises out of any closure
    freqs = np.minimum(freqs, 0.45 * sr)
    bws = np.array([80, 100, 150, 200], dtype=float)[:, None] * np.ones((1, n))

    voicing_start = onset if kind in ("plosive", "fricative") and consonant in ("p", "t", "k", "s", "sh", "f") \
        else start
    env = np.clip((t - voicing_start) / 0.02, 0, 1) * np.clip((vowel_end - t) / 0.06, 0, 1)
    voiced = formant_cascade(_glottal_source(f0, sr, rng) * env, freqs, bws, float(sr))
    if kind == "nasal":  # murmur: a low resonance while the mouth is closed
        murmur = formant_cascade(_glottal_source(f0, sr, rng), np.full((1, n), 250.0 * scale),
                                 np.full((1, n), 100.0), float(sr))
        voiced += 0.5 * murmur * ((t >= start) & (t < onset))
    noise = np.zeros(n)
    if kind in ("plosive", "fricative"):
        lo, hi = 0.5 * noise_hz, min(1.6 * noise_hz, 0.45 * sr)
        sos = butter(2, [min(lo, hi * 0.8), hi], btype="bandpass", fs=sr, output="sos")
        burst = sosfilt(sos, rng.standard_normal(n))
        seg = (t >= start) & (t < onset)
        shape = np.where(seg, 1.0 if kind == "fricative" else np.exp(-(t - start) / 0.01), 0.0)
        noise = burst * shape * (0.5 if kind == "fricative" else 1.0)
    y = voiced / max(np.abs(voiced).max(), 1e-9) + 0.4 * noise / max(np.abs(noise).max(), 1e-9) \
        + 10 ** (-60 / 20) * rng.standard_normal(n)
    y *= 0.5 / np.abs(y).max()
    return y, float(np.mean(f0[(t >= onset) & (t < vowel_end)])), float(onset)


def render(task, config: VowelsConfig):
    speaker, sex, consonant, vowel, take = task
    y, f0, onset = synthesize_syllable(speaker, sex, consonant, vowel, take, sr=config.sample_rate,
                                       duration_s=config.duration_s, seed=config.seed)
    rel = f"{speaker}/{consonant}{vowel}_{take}.wav"
    return [(rel, y, [rel, speaker, sex, consonant, vowel, take, f"{f0:.2f}", f"{onset:.4f}"])]


def write_metadata(root: Path, rows: dict[str, list]) -> None:
    with open(root / METADATA_FILE, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(METADATA_HEADER)
        w.writerows(rows[rel] for rel in sorted(rows))


def generate(root: str | Path, config: VowelsConfig | None = None, *, workers: int | None = None,
             show_progress: bool | None = None) -> Path:
    config = config or VowelsConfig()
    return write_dataset(
        Path(root), name="vowels", config=config, tasks=config.tasks(), render=partial(render, config=config),
        sample_rate=config.sample_rate, subtype=config.subtype, extra_files=write_metadata,
        workers=workers, show_progress=show_progress,
    )
