"""Names → datasets.  ``get_dataset("guitar-fx")`` makes the synthetic data on demand; ``get_dataset("egfxset",
data_home=PATH)`` or ``get_dataset("egfxset:PATH")`` reads the real thing through the same reader."""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from dl4mir.data.dataset import LAYOUTS, READERS, Dataset, dl4mir_home
from dl4mir.data.synth._writer import is_complete
from dl4mir.errors import DatasetError


@dataclass(frozen=True)
class SyntheticSpec:
    module: str  # dl4mir.data.synth.<module> with generate() and a *Config with .profile()
    config_class: str
    layout: str  # the reader that serves it
    real: str  # what it stands in for
    description: str
    overrides: tuple = ()  # (field, value) pairs on the config: a variant of another synthetic set


SYNTHETIC = {
    "guitar-fx": SyntheticSpec("guitar_fx", "GuitarFxConfig", "egfxset", "EGFxSet",
                               "plucked-string guitar notes × 5 pickups × clean + 12 effects, EGFxSet layout"),
    # for models meant to hear real guitars: playing instead of single notes, and everything a real recording
    # varies in (guitar, strings, tuning, tone, the pedals' knobs) drawn per clip; the EGFxSet layout kept
    "guitar-fx-playing": SyntheticSpec(
        "guitar_fx", "GuitarFxConfig", "egfxset", "EGFxSet",
        "guitar-fx's 13 effects on playing (riffs, chords, strums, chugs) with varied guitars, tunings and knobs",
        (("playing", "phrases"), ("knobs", "varied"), ("pickup_types", ("single-coil", "humbucker")),
         ("tone", "varied"), ("tunings", (0, -2, -4, -5, -7, -9)))),
    "instruments": SyntheticSpec("instruments", "InstrumentsConfig", "tinysol", "TinySOL",
                                 "8 orchestral instruments, every semitone, pp/mf/ff, TinySOL layout"),
    "vowels": SyntheticSpec("vowels", "VowelsConfig", "vowels", "PCVC (Persian CV syllables)",
                            "formant-synthesized CV syllables, 6 vowels × 12 consonants × speakers"),
    "rhythms": SyntheticSpec("rhythms", "RhythmsConfig", "gtzan", "GTZAN's tempo and beat annotations",
                             "drum grooves in 7 styles × 4 kits at 40–240 BPM with beats and meter, GTZAN layout"),
    # Morais et al.'s second training distribution: most tempi near 115 BPM, few slow or fast ones
    "rhythms-gtzan": SyntheticSpec("rhythms", "RhythmsConfig", "gtzan", "GTZAN's tempo and beat annotations",
                                   "the rhythms grooves with GTZAN's tempo distribution (log-normal around 115 BPM)",
                                   (("tempo_distribution", "gtzan"),)),
    "av-scenes": SyntheticSpec("av_scenes", "AvScenesConfig", "music", "MUSIC (Zhao et al.'s solo and duet videos)",
                               "3 s videos of instrument sprites that move with their sound, solos and duets, with "
                               "silent distractors; every source's audio and per-frame masks"),
    "synth-presets": SyntheticSpec("synth_presets", "SynthPresetsConfig", "synth-presets",
                                   "Flow Synthesizer's and Faronbi et al.'s rendered presets",
                                   "random FM, harmonic-plus-noise and subtractive patches at 5 pitches, with the "
                                   "patches (JSON) and their parameters in [0, 1]"),
}
REAL = LAYOUTS  # the layouts read from a folder you give
PROFILES = ("quick", "default", "full")


def list_datasets() -> dict[str, str]:
    out = {name: f"synthetic, stands in for {s.real}: {s.description}" for name, s in SYNTHETIC.items()}
    out.update({name: f"real: {desc}" for name, desc in REAL.items() if name not in out})
    return out


def synthetic_config(name: str, profile: str = "default", **overrides):
    spec = SYNTHETIC[name]
    cls = getattr(importlib.import_module(f"dl4mir.data.synth.{spec.module}"), spec.config_class)
    cfg = cls.profile(profile)
    overrides = {**dict(spec.overrides), **overrides}
    if overrides:
        from dataclasses import replace

        cfg = replace(cfg, **overrides)
    return cfg


def synthetic_root(name: str, config) -> Path:
    return dl4mir_home() / "synth" / f"{name}-{config.fingerprint()}"


def make_synthetic(name: str, *, profile: str = "default", root: str | os.PathLike | None = None,
                   config=None, workers: int | None = None, show_progress: bool | None = None) -> Path:
    """Generate a synthetic dataset (a no-op if ``root`` already holds the same config); returns its root."""
    if name not in SYNTHETIC:
        raise DatasetError(f"{name!r} is not a synthetic dataset; choose from {', '.join(SYNTHETIC)}")
    config = config or synthetic_config(name, profile)
    root = Path(root) if root else synthetic_root(name, config)
    mod = importlib.import_module(f"dl4mir.data.synth.{SYNTHETIC[name].module}")
    return mod.generate(root, config, workers=workers, show_progress=show_progress)


def get_dataset(spec: str, *, data_home: str | os.PathLike | None = None, profile: str = "default",
                make: bool = True, show_progress: bool | None = None):
    """A :class:`~dl4mir.data.dataset.Dataset` by name.

    ``spec`` is a name (``guitar-fx``, ``instruments``, ``vowels``, ``egfxset``, ``tinysol``, ``gtzan``) or
    ``name:PATH``.  Synthetic names without a path are generated into the cache on first use (``make=False``
    raises instead); real names need a path.
    """
    name, _, path = spec.partition(":")
    if path and data_home:
        raise DatasetError(f"give the path once: either {spec!r} or data_home={data_home!r}")
    data_home = path or data_home
    if name in SYNTHETIC and not data_home:
        if profile not in PROFILES:
            raise DatasetError(f"unknown profile {profile!r}; use {', '.join(PROFILES)}")
        cfg = synthetic_config(name, profile)
        root = synthetic_root(name, cfg)
        if not is_complete(root, cfg):
            if not make:
                raise DatasetError(f"{name} ({profile}) is not generated yet; run `dl4mir data make {name}`")
            make_synthetic(name, config=cfg, root=root, show_progress=show_progress)
        return Dataset(name, root, READERS[SYNTHETIC[name].layout](), show_progress=show_progress)
    layout = SYNTHETIC[name].layout if name in SYNTHETIC else name
    if layout not in READERS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    if not data_home:
        raise DatasetError(f"{name} is a real dataset: give its folder, e.g. --data {name}:/path/to/{name}")
    return Dataset(name, data_home, READERS[layout](), show_progress=show_progress)
