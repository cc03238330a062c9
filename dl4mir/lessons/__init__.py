"""The course's lessons as runnable steps.

Each lesson module is a handful of small functions that compute and return data (the notebooks call the same
functions and explain them), and ``run(ctx) -> dict`` that assembles their results into artifacts (figures, WAVs,
``metrics.json``) in ``ctx.out_dir``.  A lesson's ``HEADLINE`` maps the stable keys of its headline numbers to the
labels a person reads; its "answer" is written from this run's numbers.  The report reads the artifacts and never
recomputes.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dl4mir.audio import safe_peak, save
from dl4mir.data import get_dataset
from dl4mir.errors import ConfigError
from dl4mir.features.cache import FeatureSpec, load_table
from dl4mir.lessons.budgets import QUICK_STEPS
from dl4mir.train import train_model


@dataclass(frozen=True)
class Lesson:
    name: str
    module: str
    title: str
    question: str


LESSONS = (
    Lesson("dft", "dft", "1 · Digital audio and the DFT",
           "Is audio's dimensionality small or big? How does a spectrogram relate to the DFT?"),
    Lesson("features", "features", "2 · Audio features", "Which features separate instruments?"),
    Lesson("pca-effects", "pca_effects", "3 · Datasets and PCA: guitar effects",
           "Which features maximally separate two (then three) effects? Does it work better for some pairs?"),
    Lesson("pca-instruments", "pca_instruments", "3b · PCA and t-SNE of instruments",
           "Do instrument families form clusters in two dimensions?"),
    Lesson("linear-regression", "linear_regression", "4 · Cross-validation and linear regression",
           "Is the relationship between f0 and spectral centroid linear? Why cross-validate?"),
    Lesson("logistic-regression", "logistic_regression", "5 · Logistic regression, BCE and metrics",
           "Violin or bass tuba from two features: which two, and why?"),
    Lesson("augmentation", "augmentation", "6a · Raw-audio standardization and data augmentation",
           "What do the augmentations do to a sound?"),
    Lesson("softmax-vowels", "softmax_vowels", "6 · Softmax classification of vowels",
           "Confusion matrix and accuracy on held-out speakers"),
    Lesson("neural-networks", "neural_networks", "7–8, 11 · Feed-forward, convolutional, recurrent and attention models",
           "Which effect is on this note, for a guitar string the model never heard? How many layers are necessary?"),
    Lesson("autoencoders", "autoencoders", "9 · Autoencoders: compression, denoising, anomaly detection",
           "Does a nonlinear code beat PCA with as many numbers on a string it never heard?"),
    Lesson("vae-gan", "vae_gan", "10 · VAEs and GANs: sampling, interpolation, conditional generation",
           "Do generated notes sound like the effect asked for, and are they new rather than copies?"),
    Lesson("rave", "rave", "11 · RAVE: a realtime waveform VAE",
           "Does a waveform model beat spectrogram + Griffin-Lim? What can one do with its latent space?"),
    Lesson("tempo-ssl", "tempo_pitch", "12 · Tempo vs. Pitch: self-supervised tempo and pitch",
           "Can a model learn tempo (and pitch) without labels, from time-stretches (pitch-shifts) alone? "
           "How many labels does self-supervision save?"),
    Lesson("synth-programming", "synth_programming", "13 · Synthesizer programming: estimating and matching patches",
           "Which design estimates synthesizer parameters best, and how close does refining the estimate through "
           "the differentiable synth get?"),
    Lesson("audio-language", "audio_language",
           "14 · Audio and language: search with words, zero-shot labels, captions",
           "Can a model that learned from sentences label effects it was never given labels for, how does it "
           "compare with a model trained on the labels, and can it describe a note in a sentence?"),
    Lesson("audio-visual", "audio_visual", "15 · Audio-visual: separate and locate the sound of each instrument",
           "Can a model learn to separate and locate sounds from unlabelled videos alone?"),
)
LESSON_BY_NAME = {lesson.name: lesson for lesson in LESSONS}


@dataclass
class LessonContext:
    """What a lesson gets: where to write, which data, which profile and seed."""

    out_dir: Path
    profile: str = "default"
    guitar: str = "guitar-fx"  # or egfxset:PATH
    instruments: str = "instruments"  # or tinysol:PATH
    vowels: str = "vowels"
    scenes: str = "av-scenes"  # or music:PATH (MUSIC-style videos)
    test_group: str | None = None  # the guitar data's held-out group, e.g. "string=2" (default: string 5)
    real_guitar: str | None = None  # a folder of real recordings labelled by effect type (dl4mir run --real-guitar)
    seed: int = 0
    show_progress: bool | None = None
    figures: list = field(default_factory=list)
    audio: list = field(default_factory=list)
    maps: list = field(default_factory=list)
    _datasets: dict = field(default_factory=dict)

    _shown: tuple = (0, 0)  # figures and players shown so far (each list grows on its own)

    def dataset(self, spec: str):
        if spec not in self._datasets:
            self._datasets[spec] = get_dataset(spec, profile=self.profile, show_progress=self.show_progress)
        return self._datasets[spec]

    def table(self, spec: str, feature: str):
        """A cached feature table of a dataset (see :mod:`dl4mir.features.cache`)."""
        table = load_table(self.dataset(spec), FeatureSpec.parse(feature), show_progress=self.show_progress)
        if table.missing:
            print(f"  note: {len(table.missing)} clip(s) of {spec} have no {feature} features and are left out: "
                  + ", ".join(table.missing[:5]))
        return table

    def figure(self, name: str, caption: str) -> Path:
        path = self.out_dir / f"{name}.png"
        self.figures.append({"file": path.name, "caption": caption})
        return path

    def wav(self, name: str, y: np.ndarray, sr: int, caption: str) -> Path:
        path = save(self.out_dir / f"{name}.wav", safe_peak(np.asarray(y, dtype=np.float32)), sr=sr)
        self.audio.append({"file": path.name, "caption": caption})
        return path

    def train(self, model: str, data, *, epochs: int, tag: str | None = None, lr: float | None = None,
              quick_steps: bool = False, init_from=None, audio_model=None, export: str = "float16",
              training: dict | None = None, **model_config):
        """Train ``model`` on prepared ``data`` into ``models/<tag>`` through :func:`dl4mir.train.train_model`,
        the way lessons do: seeded, no early stopping, best weights kept in memory (no checkpoints on disk),
        weights exported at half precision (``export="none"`` for models too large to keep in a run).
        ``quick_steps``: on the quick profile, stop after a few steps.  Returns the :class:`TrainedModel`."""
        train = {"epochs": epochs, "seed": self.seed, "patience": 99, "progress": self.show_progress,
                 "resumable": False, "export": export, **(training or {})}
        if lr is not None:
            train["lr"] = lr
        if quick_steps and self.profile == "quick":
            train["max_steps"] = QUICK_STEPS
        tag = tag or model
        result = train_model(model, data, out=self.out_dir / "models" / tag, model_config=model_config, train=train,
                             init_from=init_from, audio_model=audio_model, resume="fresh")
        print(f"  {tag}: {result.summary['steps']} steps in {result.summary['seconds']:.0f} s", flush=True)
        return result

    def show(self) -> None:
        """In a notebook: display the figures and players this lesson has made since the last call."""
        from IPython.display import Audio, Image, Markdown, display  # only in notebooks

        shown_figures, shown_audio = self._shown
        items = ([("figure", f) for f in self.figures[shown_figures:]]
                 + [("audio", a) for a in self.audio[shown_audio:]])
        for kind, item in items:
            display(Markdown(f"*{item['caption']}*"))
            path = self.out_dir / item["file"]
            display(Image(filename=str(path)) if kind == "figure" else Audio(filename=str(path)))
        self._shown = (len(self.figures), len(self.audio))

    def map(self, caption: str, coords, labels, clips, *, max_points: int = 120) -> None:
        """An interactive 2-D map for the report: each point is a clip (a :class:`~dl4mir.data.dataset.Clip`
        or an audio path) that plays when clicked.  At most ``max_points``, drawn evenly across labels, are kept;
        their audio is copied next to the step so the report works offline."""
        coords, labels = np.asarray(coords, dtype=float), np.asarray([str(v) for v in labels])
        rng = np.random.default_rng(self.seed)
        per_label = max(1, max_points // max(1, len(set(labels))))
        keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == v))[:per_label]
                                       for v in sorted(set(labels))]))
        folder = self.out_dir / "clips"
        folder.mkdir(exist_ok=True)
        points = []
        for i in keep:
            clip = clips[i]
            src = Path(getattr(clip, "path", clip))
            dest = folder / f"{len(self.maps)}_{len(points):03d}{src.suffix}"
            shutil.copyfile(src, dest)
            points.append({"x": float(coords[i, 0]), "y": float(coords[i, 1]), "label": str(labels[i]),
                           "name": str(getattr(clip, "clip_id", src.name)), "audio": f"clips/{dest.name}"})
        self.maps.append({"caption": caption, "points": points})


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    return x


def notebook_context(lesson: str, *, profile: str | None = None, out: str | Path | None = None,
                     **datasets) -> LessonContext:
    """The :class:`LessonContext` a course notebook works in.  ``profile`` defaults to ``$DL4MIR_PROFILE`` or
    ``"default"``; the lesson's files go to ``out``, else ``$DL4MIR_NOTEBOOK_OUT/<lesson>``, else a new temporary
    folder (printed, so its figures and WAVs can be found).  ``datasets``: ``guitar=``, ``instruments=``,
    ``vowels=`` dataset specs, as ``dl4mir run`` takes them."""
    if lesson not in LESSON_BY_NAME:
        raise ConfigError(f"unknown lesson {lesson!r}; `dl4mir lessons list` shows them")
    profile = profile or os.environ.get("DL4MIR_PROFILE", "default")
    if out is None and os.environ.get("DL4MIR_NOTEBOOK_OUT"):
        out = Path(os.environ["DL4MIR_NOTEBOOK_OUT"]) / lesson
    out = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"dl4mir-{lesson}-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"lesson {lesson}, profile {profile}: files in {out}")
    return LessonContext(out_dir=out, profile=profile, **datasets)


def run_lesson(name: str, ctx: LessonContext) -> dict:
    """Run one lesson into ``ctx.out_dir``; returns (and writes as ``metrics.json``) its record."""
    if name not in LESSON_BY_NAME:
        raise ConfigError(f"unknown lesson {name!r}; `dl4mir lessons list` shows them")
    lesson = LESSON_BY_NAME[name]
    ctx.out_dir = Path(ctx.out_dir)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    module = importlib.import_module(f"dl4mir.lessons.{lesson.module}")
    metrics = module.run(ctx)
    headline = metrics.pop("headline", {})
    labels = getattr(module, "HEADLINE", {})
    unlabelled = sorted(set(headline) - set(labels))
    if unlabelled:  # a programming error in the lesson, not a user's
        raise AssertionError(f"lesson {name}: headline keys without a label in HEADLINE: {unlabelled}")
    record = _jsonable({"lesson": name, "title": lesson.title, "question": lesson.question,
                        "headline": headline, "headline_labels": {k: labels[k] for k in headline},
                        "metrics": metrics, "figures": ctx.figures,
                        "audio": ctx.audio, "maps": ctx.maps, "seconds": time.perf_counter() - t0})
    (ctx.out_dir / "metrics.json").write_text(json.dumps(record, indent=1))
    return record
