"""Videos and their sounds in memory, for the audio-visual models: mix-and-separate batches (Sound of Pixels) and
mixtures of 1–4 instruments with their labels (polyphonic recognition).

Both read a MUSIC-style dataset (``av-scenes``, or ``music:PATH``) once: each clip's sound at the model's rate and
``n_frames_in`` frames spread over it.  Only *solo* clips are mixed, as Sound of Pixels trains on MUSIC's solos:
each one's sound is then known to belong to the instrument in its frames.  Training rows draw their mixtures afresh
from the loop's ``(seed, epoch, step)``; validation and test rows are fixed mixtures of their own split's solos,
never of training ones.  Rows are numbered train, then val, then test.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
import torch

from dl4mir.audio import BatchResult, fit_to_length
from dl4mir.data import get_dataset
from dl4mir.data.synth.av_scenes import read_truth
from dl4mir.data.splits import default_split
from dl4mir.errors import DatasetError, VideoError
from dl4mir.features.cache import FeatureSpec
from dl4mir.train.data import TASKS
from dl4mir.video import read_video

EVAL_MIXTURES = {"val": 16, "test": 32}  # fixed mixtures per split (the loop's losses; lessons score their own)
MIXTURES_PER_SOLO = 4  # an epoch draws this many training mixtures per training solo


def pick_frames(frames: np.ndarray, n: int, size: int) -> np.ndarray:
    """``n`` frames spread evenly over a video (never its first or last), resized to ``size``², as uint8
    ``(n, 3, size, size)``."""
    T = len(frames)
    picked = [frames[min(T - 1, int(T * (i + 1) / (n + 1)))] for i in range(n)]
    if picked[0].shape[:2] != (size, size):
        picked = [cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in picked]
    return np.stack(picked).transpose(0, 3, 1, 2).copy()


@dataclass
class SceneSet:
    """Solo clips of a video dataset: frames ``(N, n_frames, 3, H, W)`` uint8, sounds ``(N, n)`` float32."""

    clip_ids: list[str]
    instruments: list[str]  # the player of each solo
    frames: np.ndarray
    audio: np.ndarray
    split: dict[str, np.ndarray]  # split -> rows
    sr: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    held_out: list = field(default_factory=list)  # every test clip of the dataset (duets too), for localization

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.instruments))


def load_scenes(data: str | None = None, *, sr: int, n_samples: int, n_frames_in: int, frame_size: int,
                profile: str = "default", show_progress: bool | None = None) -> SceneSet:
    """The solo clips of ``data`` (default ``av-scenes``), split as the layout does (stratified by instrument).
    Clips whose video or sound cannot be read are left out and listed in ``failures``."""
    ds = get_dataset(data or "av-scenes", profile=profile, show_progress=show_progress)
    if ds.reader.name != "music":
        raise DatasetError(f"{data}: the audio-visual models read MUSIC-style video folders (music:PATH or "
                           f"av-scenes), not the {ds.reader.name} layout")
    solos = sorted((c for c in ds.clips if len(c.labels["players"]) == 1), key=lambda c: c.clip_id)
    if len({c.labels["players"][0] for c in solos}) < 2:
        raise DatasetError(f"{ds.root}: mix-and-separate needs solo videos of at least two instruments "
                           "(<instrument>/<id>.mp4)")
    result = BatchResult()
    ids, inst, frames, audio = [], [], [], []
    sounds = {os.fspath(p): y for p, y, _ in result.each_loaded([c.path for c in solos], sr=sr)}
    for c in solos:
        y = sounds.get(os.fspath(c.path))
        if y is None:
            continue
        try:
            video, _ = read_video(c.labels["video"])
        except VideoError as exc:
            result.failures.append((os.fspath(c.labels["video"]), exc.cause))
            continue
        ids.append(c.clip_id)
        inst.append(c.labels["players"][0])
        frames.append(pick_frames(video, n_frames_in, frame_size))
        audio.append(fit_to_length(y, length=n_samples))
    if not ids:
        raise DatasetError(f"{ds.root}: none of its {len(solos)} solo videos could be read:\n{result.summary()}")
    plan = default_split(ds)
    fold = plan.folds[0]
    row = {cid: i for i, cid in enumerate(ids)}
    split = {name: np.array(sorted(row[c] for c in members if c in row), dtype=np.int64)
             for name, members in (("train", fold["train"]), ("val", fold["val"]), ("test", plan.test))}
    test = set(plan.test)
    return SceneSet(ids, inst, np.stack(frames), np.stack(audio).astype(np.float32), split, sr,
                    list(result.failures), [c for c in ds.clips if c.clip_id in test])


def draw_mixture(rng: np.random.Generator, rows: np.ndarray, instruments: list[str], n: int) -> list[int]:
    """``n`` rows of ``rows`` whose instruments all differ (as many as there are instruments, at most)."""
    by_inst: dict[str, list[int]] = {}
    for r in rows:
        by_inst.setdefault(instruments[r], []).append(int(r))
    names = sorted(by_inst)
    chosen = rng.choice(len(names), size=min(n, len(names)), replace=False)
    return [by_inst[names[i]][int(rng.integers(len(by_inst[names[i]])))] for i in chosen]


@dataclass
class VideoMixtures:
    """What both audio-visual tasks share: a SceneSet, training rows drawn per step, fixed evaluation mixtures."""

    task: object
    scenes: SceneSet
    crop_samples: int | None = None  # training rows are crops of this length (one offset per batch); None: whole
    n_train: int = 0
    eval_rows: dict[str, list[list[int]]] = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    norm: dict = field(default_factory=lambda: {"kind": "raw samples"})
    classes = None

    task_kind = property(lambda self: self.task.kind)
    feature_spec = property(lambda self: FeatureSpec("waveform", sr=self.scenes.sr,
                                                     duration_s=self.scenes.audio.shape[1] / self.scenes.sr))

    def sizes(self, rng: np.random.Generator) -> int:
        raise NotImplementedError

    def __post_init__(self):
        s = self.scenes
        for split in ("val", "test"):
            if len(s.split[split]) and len({s.instruments[r] for r in s.split[split]}) < 2:
                raise DatasetError(f"the {split} split holds solos of fewer than two instruments: cannot mix them")
            rng = np.random.default_rng([11, len(split)])
            self.eval_rows[split] = ([draw_mixture(rng, s.split[split], s.instruments, self.sizes(rng))
                                      for _ in range(EVAL_MIXTURES[split])] if len(s.split[split]) else [])
        self.n_train = max(1, MIXTURES_PER_SOLO * len(s.split["train"]))

    def rows(self, split: str) -> np.ndarray:
        n_val = len(self.eval_rows["val"])
        start, n = {"train": (0, self.n_train), "val": (self.n_train, n_val),
                    "test": (self.n_train + n_val, len(self.eval_rows["test"]))}[split]
        return np.arange(start, start + n, dtype=np.int64)

    def members(self, row: int, seed=None) -> list[int]:
        """The solo rows mixed in ``row``."""
        if row < self.n_train:
            rng = np.random.default_rng([*(seed or ()), int(row), 0 if seed is None else 1])
            return draw_mixture(rng, self.scenes.split["train"], self.scenes.instruments, self.sizes(rng))
        n_val = len(self.eval_rows["val"])
        row -= self.n_train
        return self.eval_rows["val"][row] if row < n_val else self.eval_rows["test"][row - n_val]

    def targets(self, rows) -> torch.Tensor:
        return torch.zeros(len(rows), dtype=torch.long)

    def crop(self, audio: np.ndarray, rows, seed) -> np.ndarray:
        """A training batch cut to ``crop_samples`` (one crop for the whole batch, from the loop's seed, so it
        stacks); evaluation rows stay whole."""
        n = audio.shape[-1]
        if not self.crop_samples or seed is None or rows[0] >= self.n_train or self.crop_samples >= n:
            return audio
        start = int(np.random.default_rng([*seed, 3]).integers(0, n - self.crop_samples + 1))
        return audio[..., start:start + self.crop_samples]

    def signature(self) -> list:
        s = self.scenes
        return [s.sr, int(s.audio.shape[1]), list(s.frames.shape[1:]), len(s.clip_ids)]

    def export_meta(self, model) -> dict:
        return {"model": getattr(model, "registry_name", type(model).__name__.lower()),
                "model_config": asdict(model.cfg), "task": self.task.name, "kind": self.task.kind,
                "classes": self.scenes.classes, "feature_spec": str(self.feature_spec), "norm": self.norm,
                "sample_rate": self.scenes.sr}

    def describe(self) -> str:
        s = self.scenes
        counts = {k: len(v) for k, v in s.split.items()}
        text = (f"{self.task.name}: {len(s.clip_ids)} solo videos of {len(s.classes)} instruments "
                f"({counts['train']} train / {counts['val']} val / {counts['test']} test); training mixtures drawn "
                f"afresh each step, {len(self.eval_rows['val'])} val / {len(self.eval_rows['test'])} test fixed")
        if s.failures:
            text += f"\n{len(s.failures)} clip(s) could not be read and are left out:\n  " + "\n  ".join(
                f"{p}: {why}" for p, why in s.failures[:10])
        return text


@dataclass
class SceneMixtures(VideoMixtures):
    """Mix-and-separate batches: ``x`` frames uint8 ``(B, N, n_frames, 3, H, W)`` of N solo videos of different
    instruments, ``y`` their sounds ``(B, N, n)`` (the model adds them up)."""

    n_mix: int = 2

    def sizes(self, rng):
        return self.n_mix

    def batch(self, rows, *, seed=None, augment: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        groups = [self.members(int(r), seed) for r in rows]
        audio = self.crop(np.stack([self.scenes.audio[g] for g in groups]), rows, seed)
        return torch.from_numpy(np.stack([self.scenes.frames[g] for g in groups])), torch.from_numpy(audio)

    def input_shape(self) -> dict:
        s = self.scenes
        return {"sample_rate": s.sr, "n_samples": int(s.audio.shape[1]), "n_frames_in": int(s.frames.shape[1]),
                "frame_size": int(s.frames.shape[-1])}


@dataclass
class InstrumentMixtures(VideoMixtures):
    """Polyphonic recognition: ``x`` the sum of 1–``max_instruments`` solos of different instruments, each at a
    random gain of ±6 dB ``(B, n)``; ``y`` which instruments play, multi-hot ``(B, n_classes)``."""

    max_instruments: int = 4

    def sizes(self, rng):
        return int(rng.integers(1, self.max_instruments + 1))

    def mix(self, groups: list[list[int]], keys: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
        """Each group of solo rows summed at gains drawn from its key, and its multi-hot labels."""
        classes = self.scenes.classes
        x = np.zeros((len(groups), self.scenes.audio.shape[1]), np.float32)
        y = np.zeros((len(groups), len(classes)), np.float32)
        for i, (group, key) in enumerate(zip(groups, keys)):
            gains = 10 ** (np.random.default_rng([*key, len(group)]).uniform(-6, 6, len(group)) / 20)
            x[i] = (self.scenes.audio[group] * gains[:, None].astype(np.float32)).sum(axis=0)
            y[i, [classes.index(self.scenes.instruments[g]) for g in group]] = 1
        return x, y

    def fixed(self, split: str, count: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``count`` fixed mixtures of a split's solos (more than the loop's evaluation rows, for scoring)."""
        rng = np.random.default_rng([seed, 41])
        groups = [draw_mixture(rng, self.scenes.split[split], self.scenes.instruments, self.sizes(rng))
                  for _ in range(count)]
        x, y = self.mix(groups, [(seed, i, 5) for i in range(count)])
        return torch.from_numpy(x), torch.from_numpy(y)

    def batch(self, rows, *, seed=None, augment: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.mix([self.members(int(r), seed) for r in rows], [(int(r), *(seed or (0,))) for r in rows])
        return torch.from_numpy(self.crop(x, rows, seed)), torch.from_numpy(y)

    def input_shape(self) -> dict:
        return {"sample_rate": self.scenes.sr, "n_samples": int(self.scenes.audio.shape[1]),
                "n_classes": len(self.scenes.classes)}


def prepare_scenes(data: str | None = None, *, kind: str, sr: int, n_samples: int, n_frames_in: int = 3,
                   frame_size: int = 112, n_mix: int = 2, crop_samples: int | None = None, profile: str = "default",
                   show_progress: bool | None = None, scenes: SceneSet | None = None):
    """The data of an audio-visual task: ``kind="scenes"`` (mix-and-separate) or ``"mixtures"`` (polyphonic
    recognition).  ``scenes``: a SceneSet already loaded (a lesson shares one between both models)."""
    scenes = scenes or load_scenes(data, sr=sr, n_samples=n_samples, n_frames_in=n_frames_in, frame_size=frame_size,
                                   profile=profile, show_progress=show_progress)
    if kind == "scenes":
        return SceneMixtures(TASKS["scenes"], scenes, crop_samples=crop_samples, n_mix=n_mix)
    return InstrumentMixtures(TASKS["mixtures"], scenes, crop_samples=crop_samples)


def read_scene(clip, *, sr: int, n_samples: int) -> dict:
    """Everything about one clip for evaluation: all its frames ``(T, H, W, 3)``, its sound, and its ground truth
    when the dataset has it (``sources``, ``masks``, ``playing``)."""
    frames, fps = read_video(clip.labels["video"])
    y, _ = clip.load(sr=sr)
    out = {"frames": frames, "fps": fps, "audio": fit_to_length(y, length=n_samples), "clip_id": clip.clip_id}
    if clip.labels.get("truth") is not None:
        out.update(read_truth(clip.labels["truth"]))
    return out


__all__ = ["SceneSet", "SceneMixtures", "InstrumentMixtures", "load_scenes", "prepare_scenes", "read_scene",
           "pick_frames", "draw_mixture"]
