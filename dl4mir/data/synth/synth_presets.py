"""``synth-presets``: random patches of dl4mir's three synthesizers, each played at several pitches, with the
patch that made every note — the sound-matching data of Flow Synthesizer (Esling et al. 2020) and of multi-task
synthesizer programming (Faronbi et al. 2023).

Every patch is drawn uniformly in each parameter's musical range (:func:`dl4mir.synth.patches.random_patch`; FM
ratios from the DX7's coarse ratios), rendered by :func:`dl4mir.synth.patches.render_batch` as notes of
``duration_s`` released at ``note_s``, scaled down together (one gain per patch, recorded) if its loudest note
would clip.

Layout (dl4mir's own): ``<synth>/<patch>_<midi>.wav``, ``patches/<synth>/<patch>.json`` (the patch, a file
``dl4mir synth render --params`` plays) and ``synth_presets_metadata.csv`` (path, synth, patch, midi, f0_hz,
note_s, gain_db, params_unit: the patch as its synth's parameters mapped to [0, 1], space-separated in the order
``dl4mir synth params`` lists them).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from dl4mir.data.dataset import SYNTH_PRESETS_HEADER, SYNTH_PRESETS_METADATA
from dl4mir.data.egfxset import midi_to_hz
from dl4mir.data.synth._writer import SynthConfig, write_dataset
from dl4mir.errors import ConfigError
from dl4mir.synth import patches

PEAK = 0.9  # a patch whose loudest note is above this is scaled down (all its notes by one gain)


@dataclass(frozen=True)
class SynthPresetsConfig(SynthConfig):
    synths: tuple[str, ...] = tuple(patches.SPACES)
    n_patches: int = 64  # per synth
    midi: tuple[int, ...] = (48, 55, 60, 67, 72)  # C3 … C5
    duration_s: float = 1.0
    note_s: float = 0.7
    sample_rate: int = 16000
    seed: int = 0
    subtype: str = "PCM_16"

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"n_patches": 6, "midi": (55, 67)},
        "default": {},
        "full": {"n_patches": 512, "midi": (36, 43, 48, 55, 60, 67, 72, 79)},
    }

    def __post_init__(self):
        problems = [f"unknown synth {s!r} (synths: {', '.join(patches.SPACES)})" for s in self.synths
                    if s not in patches.SPACES]
        if self.n_patches < 2:
            problems.append("n_patches must be >= 2 (patches are the held-out groups)")
        if not self.midi or any(not 21 <= m <= 108 for m in self.midi):
            problems.append(f"midi notes {self.midi} must be piano keys (21 … 108)")
        if not 0 < self.note_s <= self.duration_s <= 10:
            problems.append(f"need 0 < note_s ({self.note_s}) <= duration_s ({self.duration_s}) <= 10")
        if self.sample_rate < 8000:
            problems.append(f"sample_rate {self.sample_rate} Hz is below 8000 Hz")
        elif midi_to_hz(max(self.midi, default=21)) >= self.sample_rate / 2:
            problems.append("the highest note is at or above Nyquist")
        if problems:
            raise ConfigError("synth-presets config: " + "; ".join(problems))

    def tasks(self) -> list[tuple[str, int]]:
        return [(synth, k) for synth in self.synths for k in range(self.n_patches)]


def draw_patch(synth: str, index: int, seed: int) -> dict[str, float]:
    """Patch ``index`` of ``synth``: the same patch whatever the profile's other settings."""
    return patches.random_patch(synth, np.random.default_rng([seed, list(patches.SPACES).index(synth), index]))


def render(task, config: SynthPresetsConfig):
    synth, index = task
    patch = draw_patch(synth, index, config.seed)
    f0 = torch.tensor([midi_to_hz(m) for m in config.midi], dtype=torch.float32)
    params = {k: torch.full((len(f0),), v, dtype=torch.float32) for k, v in patch.items()}
    with torch.no_grad():
        notes = patches.render_batch(synth, params, f0_hz=f0, note_s=config.note_s, sample_rate=config.sample_rate,
                                     n_samples=int(round(config.duration_s * config.sample_rate)),
                                     generator=torch.Generator().manual_seed(config.seed * 100_003 + index)).numpy()
    peak = float(np.abs(notes).max())
    gain = min(1.0, PEAK / peak) if peak > 0 else 1.0
    name = f"{synth}_{index:04d}"
    unit = " ".join(f"{u:.6f}" for u in patches.normalize(patch, synth))
    out = []
    for m, y in zip(config.midi, notes):
        rel = f"{synth}/{name}_{m}.wav"
        out.append((rel, y * gain, [rel, synth, name, str(m), f"{midi_to_hz(m):.4f}", f"{config.note_s:g}",
                                    f"{20 * np.log10(gain):.4f}", unit, json.dumps(patch)]))
    return out


def write_metadata(root: Path, rows: dict[str, list]) -> None:
    written = set()
    with open(root / SYNTH_PRESETS_METADATA, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(SYNTH_PRESETS_HEADER)
        for rel in sorted(rows):
            *row, patch_json = rows[rel]
            w.writerow(row)
            synth, name = row[1], row[2]
            if name not in written:  # each patch once, as a file `dl4mir synth render --params` reads
                path = root / "patches" / synth / f"{name}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(json.loads(patch_json), indent=1))
                written.add(name)


def patch_file(audio_relpath: str) -> dict[str, str]:
    """The patch file beside a note (``fm/fm_0003_60.wav`` → ``patches/fm/fm_0003.json``), indexed with it."""
    synth, name = audio_relpath.split("/")[0], audio_relpath.rsplit("/", 1)[-1].rsplit("_", 1)[0]
    return {"patch": f"patches/{synth}/{name}.json"}


def generate(root: str | Path, config: SynthPresetsConfig | None = None, *, workers: int | None = None,
             show_progress: bool | None = None) -> Path:
    config = config or SynthPresetsConfig()
    return write_dataset(
        Path(root), name="synth-presets", config=config, tasks=config.tasks(), render=partial(render, config=config),
        sample_rate=config.sample_rate, subtype=config.subtype, extra_files=write_metadata, annotations=patch_file,
        workers=workers, show_progress=show_progress,
    )
