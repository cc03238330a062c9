"""Tasks and their data: which label to learn on which dataset, features held in memory, a leakage-free split,
standardization statistics from the training rows only, on-the-fly augmentation, class balance."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from dl4mir.audio import BatchResult, info
from dl4mir.augment import augment_batch
from dl4mir.data import get_dataset
from dl4mir.data.splits import default_split, parse_test_group
from dl4mir.errors import ConfigError, DatasetError
from dl4mir.features import control, text
from dl4mir.features.bands import band_statistics, standardize_bands, unstandardize_bands
from dl4mir.features.cache import FeatureSpec, load_table
from dl4mir.features.describe import cached_captions
from dl4mir.features.logmag import SPEC


@dataclass(frozen=True)
class Task:
    name: str
    layout: str  # the dataset layout it needs
    label: str  # the Clip.labels key
    kind: str = "classification"  # or regression
    default_data: str | None = "guitar-fx"  # None: no synthetic stand-in; the user names the data
    duration_s: float | None = None  # the model's window; None: the dataset's clip length
    select: tuple[str, str] | None = None  # (label, value): only the clips with that label value
    # vector labels whose length depends on this other label (a patch's on its synth): one target array, each row
    # its ``by`` value's index, then its vector padded with zeros to the longest (see :func:`padded_targets`)
    padded_by: str | None = None


TASKS = {t.name: t for t in (
    Task("effect", "egfxset", "effect"),
    Task("effect_type", "egfxset", "effect_type"),
    Task("pickup", "egfxset", "pickup"),
    Task("string", "egfxset", "string"),
    Task("midi", "egfxset", "midi", kind="regression"),
    Task("family", "tinysol", "family", default_data="instruments"),
    Task("instrument", "tinysol", "instrument", default_data="instruments"),
    Task("vowel", "vowels", "vowel", default_data="vowels"),
    # the course's CNN homework; 10 s of each 30 s excerpt (`predict` slides the window over whole files)
    Task("genre", "gtzan", "genre", default_data=None, duration_s=10.0),
    Task("label", "folder", "label", default_data=None),  # your own audio: folder:PATH
    Task("tempo", "gtzan", "tempo_bpm", kind="regression", default_data="rhythms"),
    Task("pitch", "tinysol", "midi", kind="regression", default_data="instruments"),
    # a note → its patch's point in the unit cube, one synth at a time (their parameter vectors differ)
    # the audio itself, from any dataset (RAVE): no label, no particular layout
    Task("audio", "*", "", kind="generative"),
    # the audio with its pitch and loudness curves (DDX7, DDSP's decoder): any dataset, no label
    Task("controls", "*", "", kind="generative"),
    # clips paired with sentences about them (the audio–language models): any dataset with a caption grammar, or a
    # folder with captions.csv
    Task("captions", "*", "captions", kind="generative"),
    # videos and their sounds (the audio-visual models): mix-and-separate, and mixtures of named instruments
    Task("scenes", "music", "", kind="generative", default_data="av-scenes"),
    Task("mixtures", "music", "players", kind="generative", default_data="av-scenes"),
    *(Task(f"{synth}-params", "synth-presets", "params_unit", kind="regression", default_data="synth-presets",
           select=("synth", synth)) for synth in ("fm", "harmonic-noise", "subtractive")),
    # every synth's notes at once (multi-task ASP)
    Task("synth-params", "synth-presets", "params_unit", kind="regression", default_data="synth-presets",
         padded_by="synth"),
)}
MAX_FOLDER_WINDOW_S = 10.0  # a folder's clips have any length: the window is their median length, at most this


def feature_spec_for(input_kind: str, duration_s: float):
    if input_kind == "onset":  # rhythm: the onset envelope at GTZAN's rate, 23 ms frames
        return FeatureSpec("onset", sr=22050, duration_s=duration_s)
    if input_kind == "waveform":
        return FeatureSpec("waveform", sr=8000, duration_s=duration_s)
    if input_kind == "cqt":  # pitch: constant-Q frames, C1 to C8 at 24 bins per octave
        return FeatureSpec("cqt", sr=16000, duration_s=duration_s)
    if input_kind == "logmag":  # the generative models' spectrograms (a fixed length, see features.logmag)
        return SPEC.feature_spec()
    # every clip at one loudness before its spectrogram, in training and in `predict` alike: how loud a
    # recording was made (or a synthetic class was rendered) is not a label
    return FeatureSpec("logmel", sr=16000, duration_s=duration_s, rms_db=-20.0,
                       params=(("hop_length", 256), ("n_fft", 1024), ("n_mels", 64)))


@dataclass
class TaskData:
    """Everything the loop needs, in memory.  ``X`` rows line up with ``clip_ids``, ``y`` with both."""

    task: Task
    X: torch.Tensor  # (N, n_mels or n_freq, frames) or (N, 1, samples), standardized
    y: torch.Tensor  # (N,) class index or float target
    clip_ids: list[str]
    classes: list[str] | None
    split_rows: dict[str, np.ndarray]
    feature_spec: object
    norm: dict  # mean/std used to standardize (for predict)
    labels: dict = field(default_factory=dict)  # every label column of the clips, aligned with the rows

    @property
    def task_kind(self) -> str:
        return self.task.kind

    def rows(self, split: str) -> np.ndarray:
        return self.split_rows[split]

    def targets(self, rows) -> torch.Tensor:
        return self.y[torch.as_tensor(rows)]

    def batch(self, rows, *, seed=None, augment: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of ``rows``; ``augment`` transforms ``x`` on the fly, drawn from ``seed`` (the loop's
        ``(seed, epoch, step)``, so a resumed run draws the same)."""
        idx = torch.as_tensor(np.asarray(rows))
        x = self.X[idx]
        if augment:
            x = augment_batch(x, self.feature_spec.name, seed=seed)
        return x, self.y[idx]

    def signature(self) -> list[int]:
        """The input's shape, which a checkpoint must share to be resumed on this data."""
        return list(self.X.shape[1:])

    def class_balance(self) -> dict:
        if self.classes is None:
            return {}
        return {split: {self.classes[k]: int(v) for k, v in zip(*np.unique(self.y[rows].numpy(), return_counts=True))}
                for split, rows in self.split_rows.items()}

    def input_shape(self) -> dict:
        if self.feature_spec.name == "waveform":
            return {"n_samples": int(self.X.shape[-1])}
        if self.feature_spec.name == "onset":
            return {"n_frames": int(self.X.shape[-1]),
                    "frame_rate_hz": self.feature_spec.sr / self.feature_spec.kwargs["hop_length"]}
        if self.feature_spec.name == "cqt":
            kw = self.feature_spec.kwargs
            return {"n_bins": int(self.X.shape[1]), "n_frames": int(self.X.shape[2]), "fmin_hz": kw["fmin_hz"],
                    "bins_per_octave": kw["bins_per_octave"]}
        if self.task.kind == "generative":
            return {"n_freq": int(self.X.shape[1]), "n_frames": int(self.X.shape[2])}
        return {"n_mels": int(self.X.shape[1]), "n_frames": int(self.X.shape[2])}

    def export_meta(self, model) -> dict:
        return {"model": getattr(model, "registry_name", type(model).__name__.lower()),
                 "model_config": asdict(model.cfg), "task": self.task.name, "kind": self.task.kind,
                "classes": self.classes, "feature_spec": str(self.feature_spec), "norm": self.norm}





def _window_s(ds, task: Task) -> float:
    """The model's window: the task's, else the clips' length (a folder's clips vary: their median, capped)."""
    if ds.reader.name in ("folder", "captions"):
        return min(MAX_FOLDER_WINDOW_S, float(np.median([info(c.path).duration_s for c in ds.clips])))
    return task.duration_s or info(ds.clips[0].path).duration_s


def _scalar_labels(labels: list[dict]) -> dict[str, np.ndarray]:
    """Every label column whose values are strings or numbers (not lists of captions), aligned with the rows."""
    scalar = [k for k, v in (labels[0] if labels else {}).items() if isinstance(v, (str, int, float))]
    return {k: np.array([lab[k] for lab in labels]) for k in scalar}


def _split_rows(ds, clip_ids: list[str], *, test_group: str | None, val_fold: int = 0) -> dict[str, np.ndarray]:
    """Row indices (into ``clip_ids``) of train / val / test: the layout's course split, one grouped fold of the
    development set validating."""
    plan = default_split(ds, test_group=test_group)
    if plan.note:
        print(f"split: {plan.describe()}")
    index = {cid: i for i, cid in enumerate(clip_ids)}
    fold = plan.folds[val_fold % len(plan.folds)]
    return {name: np.array(sorted(index[c] for c in ids if c in index), dtype=np.int64)
            for name, ids in (("train", fold["train"]), ("val", fold["val"]), ("test", plan.test))}


def prepare(task_name: str, *, input_kind: str = "logmel", data: str | None = None, profile: str = "default",
            val_fold: int = 0, test_group: str | None = None, show_progress: bool | None = None) -> TaskData:
    """Load a task's features (from the cache), split them leakage-free, standardize with training statistics.

    ``input_kind="logmag"`` prepares the generative models' log-magnitude spectrograms; the task's label then
    becomes the (categorical) condition of conditional models, and the task kind is "generative".

    The split is the dataset's course split (EGFxSet: test = string 5); the validation set is one grouped fold
    of the development set (EGFxSet: one more held-out string), so validation never sees a training string.
    ``test_group="string=2"`` holds out other groups than the layout's convention.
    """
    if task_name not in TASKS:
        raise ConfigError(f"unknown task {task_name!r}; choose from {', '.join(TASKS)}")
    task = TASKS[task_name]
    if task.layout == "*" or input_kind == "audio":
        raise ConfigError(f"task {task_name!r} with {input_kind} input: waveform models read audio crops "
                          "(prepare_audio), not feature tables")
    if input_kind == "logmag":
        task = replace(task, kind="generative")
    if data is None and task.default_data is None:
        raise ConfigError(f"task {task_name!r} has no synthetic dataset; give the real one, e.g. "
                          f"--data {task.layout}:/path/to/{task.layout.upper()}")
    ds = get_dataset(data or task.default_data, profile=profile, show_progress=show_progress)
    if ds.reader.name != task.layout:
        raise ConfigError(f"task {task_name!r} needs a {task.layout}-layout dataset; {ds.name} is {ds.reader.name}")
    if task.layout == "folder":
        unlabelled = [c.clip_id for c in ds.clips if c.labels.get(task.label) is None]
        if unlabelled:
            raise ConfigError(f"{len(unlabelled)} clip(s) of {ds.root} have no label (files at the top level, or "
                              f"not in labels.csv): {', '.join(unlabelled[:5])}; put them in a label folder or "
                              "the CSV, or move them out")
    spec = feature_spec_for(input_kind, _window_s(ds, task))
    table = load_table(ds, spec, show_progress=show_progress)
    if task.select:
        key, value = task.select
        keep = [i for i, lab in enumerate(table.labels) if lab.get(key) == value]
        if not keep:
            raise ConfigError(f"task {task_name!r}: no clip of {ds.name} has {key} = {value!r}")
        table = replace(table, X=table.X[keep], clip_ids=[table.clip_ids[i] for i in keep],
                        labels=[table.labels[i] for i in keep], groups=[table.groups[i] for i in keep])
    if table.missing:
        print(f"note: {len(table.missing)} clip(s) without features are left out: {', '.join(table.missing[:5])}")
    split_rows = _split_rows(ds, table.clip_ids, test_group=test_group, val_fold=val_fold)
    raw = None if task.padded_by else table.column(task.label)
    if task.padded_by:  # targets in [0, 1] already: not standardized (the index column must stay an index)
        classes, (y, padding) = None, padded_targets(table.labels, task.label, task.padded_by)
        t_mean, t_std = 0.0, 1.0
    elif task.kind in ("classification", "generative"):
        classes = sorted({str(v) for v in raw}, key=lambda s: (len(s), s) if s.isdigit() else (0, s))
        lookup = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([lookup[str(v)] for v in raw], dtype=torch.long)
    else:  # standardize the target with training statistics so one learning rate fits any unit
        y = torch.tensor(raw.astype(np.float32))
        t_mean, t_std = float(y[split_rows["train"]].mean()), float(y[split_rows["train"]].std().clamp_min(1e-6))
        classes, y = None, (y - t_mean) / t_std
    X = torch.from_numpy(table.X.astype(np.float32))
    if input_kind == "logmag":
        X = SPEC.from_magnitude(X)
    train = X[torch.as_tensor(split_rows["train"])]
    if input_kind in ("waveform", "onset"):
        X = X.unsqueeze(1)  # (N, 1, samples or frames); already scaled per clip
        norm = {"kind": "per-clip zero-mean peak" if input_kind == "waveform" else "per-clip peak"}
    elif input_kind == "cqt":  # scaled per clip already; per-band statistics would break the shift along the bins
        norm = {"kind": "per-clip dB below the clip's maximum"}
    else:  # per-mel-band statistics of the training rows only
        norm = band_statistics(train)
        X = standardize_bands(X, norm)
    if task.kind == "regression":
        norm.update(target_mean=t_mean, target_std=t_std, **(padding if task.padded_by else {}))
    return TaskData(task, X, y, table.clip_ids, classes, split_rows, spec, norm, _scalar_labels(table.labels))


def padded_targets(labels: list[dict], key: str, by: str) -> tuple[torch.Tensor, dict]:
    """Rows' vector labels ``key`` of lengths that depend on the label ``by`` (a patch's on its synth) as one
    ``(N, 1 + longest)`` array: the ``by`` value's index (in sorted order), then the vector padded with zeros
    (Faronbi et al.'s multi-task targets); with ``{"synths": values, "synth_n_params": lengths}``."""
    values = sorted({str(lab[by]) for lab in labels})
    lengths = {}
    for lab in labels:
        n = lengths.setdefault(str(lab[by]), len(lab[key]))
        if n != len(lab[key]):
            raise DatasetError(f"{key} of {by} {lab[by]!r} has {len(lab[key])} values in one clip and {n} in another")
    y = torch.zeros(len(labels), 1 + max(lengths.values(), default=0))
    for i, lab in enumerate(labels):
        y[i, 0] = values.index(str(lab[by]))
        y[i, 1:1 + len(lab[key])] = torch.tensor(lab[key], dtype=torch.float32)
    return y, {"synths": values, "synth_n_params": [lengths[v] for v in values]}


@dataclass
class CaptionPairs(TaskData):
    """Log-mel clips and the sentences describing them, for the audio–language models.  ``y`` is unused; a batch's
    targets are caption embeddings ``(B, 384)``: a training row takes one of its clip's training-wording captions at
    random (from the loop's seed), a validation row its first, a test row its first *held-out-wording* caption
    (a grammar's test wording; a captions.csv's ``split=test`` rows), so test scores are on phrasings never seen."""

    captions: list[list[int]] = field(default_factory=list)  # per row: indices into texts
    texts: list[str] = field(default_factory=list)  # distinct training-wording captions
    text_emb: torch.Tensor | None = None  # (len(texts), 384)
    test_captions: list[list[int]] = field(default_factory=list)  # per row: indices into test_texts
    test_texts: list[str] = field(default_factory=list)
    test_text_emb: torch.Tensor | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # clips that could not be described, and why
    # what a batch's targets are: "embedding" (each caption's sentence embedding) or "tokens" (its word ids, for
    # the captioners; see :meth:`with_tokens`)
    target: str = "embedding"
    vocab: tuple = ()  # the captioners' words: the training wording's (dl4mir.features.text.vocabulary)
    tokens: torch.Tensor | None = None  # (len(texts), max_tokens + 2) word ids
    test_tokens: torch.Tensor | None = None  # (len(test_texts), max_tokens + 2); unseen words are <unk>
    embedded: bool = False  # X holds each clip's audio and caption embeddings (N, 2, D), not log-mel (a captioner's)

    def batch(self, rows, *, seed=None, augment: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        rows = np.asarray(rows)
        idx = torch.as_tensor(rows)
        x = self.X[idx]
        if augment:
            x = augment_batch(x, self.feature_spec.name, seed=seed)
        if seed is None:
            return x, self._fixed[idx]
        rng = np.random.default_rng([*seed, 7])
        train = self.text_emb if self.target == "embedding" else self.tokens
        return x, train[[self.captions[r][int(rng.integers(len(self.captions[r])))] for r in rows]]

    def __post_init__(self):  # each row's caption when no seed draws one: held-out wording for test rows
        if self.target not in ("embedding", "tokens"):
            raise ConfigError(f"caption targets are 'embedding' or 'tokens', not {self.target!r}")
        train, test_wording = ((self.text_emb, self.test_text_emb) if self.target == "embedding"
                               else (self.tokens, self.test_tokens))
        test = set(self.split_rows["test"].tolist())
        fixed = [test_wording[self.test_captions[r][0]] if r in test and self.test_captions[r]
                 else train[self.captions[r][0]] for r in range(len(self.clip_ids))]
        self._fixed = torch.stack(fixed) if fixed else train[:0]

    def standardized_as(self, norm: dict) -> "CaptionPairs":
        """The same pairs standardized with another model's statistics ``norm`` (a captioner reads its CLAP's)."""
        if norm == self.norm:
            return self
        return replace(self, X=standardize_bands(unstandardize_bands(self.X, self.norm), norm), norm=norm)

    def with_tokens(self, *, max_tokens: int = 24) -> "CaptionPairs":
        """The same pairs whose batch targets are the captions' word ids ``(B, n + 2)`` (``<bos>`` … ``<eos>``
        ``<pad>``…; ``n`` the longest caption's words, at most ``max_tokens``), in a vocabulary of the training
        wording's words, for the captioning models."""
        vocab = text.vocabulary(self.texts)
        longest = max(len(text.words(t)) for t in [*self.texts, *self.test_texts])
        width = min(longest, max_tokens)  # no longer than the longest caption (a longer one than max_tokens: error)
        encode = lambda texts: torch.from_numpy(text.encode_words(texts, vocab, max_tokens=width))  # noqa: E731
        return replace(self, target="tokens", vocab=vocab, tokens=encode(self.texts),
                       test_tokens=encode(self.test_texts))

    def targets(self, rows) -> torch.Tensor:
        return torch.zeros(len(rows), dtype=torch.long)

    def input_shape(self) -> dict:
        if self.embedded:
            shape = {"embed_dim": int(self.X.shape[-1])}
        else:
            shape = {"n_mels": int(self.X.shape[1]), "n_frames": int(self.X.shape[2]), "text_dim": text.DIM}
        if self.target == "tokens":
            shape.update(vocab=self.vocab, max_tokens=int(self.tokens.shape[1]) - 2)
        return shape

    def signature(self) -> list:
        tokens = [] if self.target == "embedding" else [len(self.vocab), int(self.tokens.shape[1])]
        return [*self.X.shape[1:], len(self.texts), *tokens]

    def describe(self) -> str:
        n = {s: len(r) for s, r in self.split_rows.items()}
        out = (f"captions: {len(self.clip_ids)} clips ({n['train']} train / {n['val']} val / {n['test']} test), "
               f"{sum(map(len, self.captions))} training-wording captions ({len(self.texts)} distinct), "
               f"{len(self.test_texts)} distinct held-out-wording ones; input {tuple(self.X.shape[1:])}")
        return out + "".join(f"\n  not used, unreadable: {path}: {cause}" for path, cause in self.failures)


def prepare_captions(data: str | None = None, *, profile: str = "default", per_clip: int = 3, seed: int = 0,
                     test_group: str | None = None, show_progress: bool | None = None) -> CaptionPairs:
    """Clips of a dataset (default guitar-fx) as standardized log-mel, split as its layout does (EGFxSet: test on
    string 5), each paired with its captions: a ``captions:PATH`` folder's own, or ``per_clip`` per wording written
    by :mod:`dl4mir.features.describe` from its labels and measured audio (cached by everything they depend on).
    Each distinct sentence is embedded once by the frozen sentence encoder (cached by text)."""
    ds = get_dataset(data or "guitar-fx", profile=profile, show_progress=show_progress)
    if not ds.clips:
        raise DatasetError(f"{ds.root}: no audio clips to pair with captions")
    by_path = {os.fspath(c.path): c for c in ds.clips}
    failures: list[tuple[str, str]] = []
    if ds.reader.name == "captions":
        said = {c.clip_id: (list(c.labels["captions"]), list(c.labels["test_captions"])) for c in ds.clips}
    else:
        rows, result = cached_captions(ds, per_clip=per_clip, seed=seed)
        failures = list(result.failures)
        said = {}
        for r in rows:
            clip = by_path[os.fspath(ds.root / r["file"])]
            said.setdefault(clip.clip_id, ([], []))[r["split"] == "test"].append(r["caption"])
    bare = sorted(cid for cid, (train, _) in said.items() if not train)
    if bare:
        raise DatasetError(f"{ds.root}: {len(bare)} clip(s) have no training caption, only held-out ones: "
                           f"{', '.join(bare[:5])}; give each clip at least one caption with split=train")
    table = load_table(ds, feature_spec_for("logmel", _window_s(ds, TASKS["captions"])), show_progress=show_progress)
    keep = [i for i, cid in enumerate(table.clip_ids) if cid in said]
    failures += [(cid, "no features") for cid in table.missing]
    clip_ids = [table.clip_ids[i] for i in keep]
    split_rows = _split_rows(ds, clip_ids, test_group=test_group)
    X = torch.from_numpy(table.X[keep].astype(np.float32))
    norm = band_statistics(X[torch.as_tensor(split_rows["train"])])
    texts = sorted({c for cid in clip_ids for c in said[cid][0]})
    test_texts = sorted({c for cid in clip_ids for c in said[cid][1]})
    t_index, e_index = {c: i for i, c in enumerate(texts)}, {c: i for i, c in enumerate(test_texts)}
    return CaptionPairs(
        TASKS["captions"], standardize_bands(X, norm), torch.zeros(len(clip_ids), dtype=torch.long), clip_ids,
        None, split_rows, table.spec, norm, _scalar_labels([table.labels[i] for i in keep]),
        captions=[[t_index[c] for c in said[cid][0]] for cid in clip_ids], texts=texts,
        text_emb=torch.from_numpy(text.embed(texts)),
        test_captions=[[e_index[c] for c in said[cid][1]] for cid in clip_ids], test_texts=test_texts,
        test_text_emb=torch.from_numpy(text.embed(test_texts)) if test_texts else torch.empty(0, text.DIM),
        failures=failures)


MAX_EVAL_CROPS = 64  # validation and test crops of an AudioCrops (from as many files, at most)


@dataclass
class AudioCrops:
    """Waveforms for models that learn from audio itself (RAVE): every readable file of a dataset at one sample rate,
    in memory, cut into crops of ``crop_samples``.  Training rows are drawn afresh each step (a file in proportion
    to its length, then a position in it, from the loop's ``(seed, epoch, step)``); validation and test rows are
    fixed crops.  Rows are numbered train, then val, then test."""

    task: Task
    audio: list[np.ndarray]  # one mono float32 array per file, at sr
    files: list[str]
    file_split: dict[str, np.ndarray]  # split -> indices into files
    sr: int
    crop_samples: int
    failures: list[tuple[str, str]] = field(default_factory=list)  # files that could not be read, and why
    eval_crops: dict[str, np.ndarray] = field(default_factory=dict)  # val/test -> (n, 2) (file, start)
    classes = None
    labels: dict = field(default_factory=dict)
    norm: dict = field(default_factory=lambda: {"kind": "raw samples"})

    def __post_init__(self):
        for split in ("val", "test"):  # up to 4 crops per file, at most MAX_EVAL_CROPS per split, spread over files
            crops = [(f, start) for f in self.file_split[split]
                     for start in range(0, max(1, len(self.audio[f]) - self.crop_samples + 1), self.crop_samples)[:4]]
            if len(crops) > MAX_EVAL_CROPS:
                crops = [crops[int(i)] for i in np.linspace(0, len(crops) - 1, MAX_EVAL_CROPS)]
            self.eval_crops[split] = np.array(crops, dtype=np.int64).reshape(-1, 2)
        lengths = np.array([len(self.audio[f]) for f in self.file_split["train"]], dtype=np.float64)
        self.n_train = max(1, int(lengths.sum()) // self.crop_samples)
        self._file_weights = lengths / max(lengths.sum(), 1.0)  # a training crop's file, by its length
        self._fixed = np.concatenate([self.eval_crops["val"], self.eval_crops["test"]])

    task_kind = property(lambda self: self.task.kind)
    feature_spec = property(lambda self: FeatureSpec("waveform", sr=self.sr, duration_s=self.crop_samples / self.sr))

    def rows(self, split: str) -> np.ndarray:
        n_val = len(self.eval_crops["val"])
        start, n = {"train": (0, self.n_train), "val": (self.n_train, n_val),
                    "test": (self.n_train + n_val, len(self.eval_crops["test"]))}[split]
        return np.arange(start, start + n, dtype=np.int64)

    def targets(self, rows) -> torch.Tensor:
        return torch.zeros(len(rows), dtype=torch.long)

    def _crop(self, f: int, start: int) -> np.ndarray:
        y = self.audio[f][start:start + self.crop_samples]
        return np.pad(y, (0, self.crop_samples - len(y)))

    step = 1  # a training crop starts at a multiple of this many samples

    def positions(self, rows, seed=None) -> list[tuple[int, int]]:
        """``(file, start)`` of each row's crop; a training row without ``seed`` gets a crop fixed by its number."""
        train, out = self.file_split["train"], []
        for i, row in enumerate(np.asarray(rows)):
            if row < self.n_train:
                rng = np.random.default_rng([*(seed or ()), int(row), i, 0 if seed is None else 1])
                f = int(train[rng.choice(len(train), p=self._file_weights)])
                start = int(rng.integers(0, max(1, len(self.audio[f]) - self.crop_samples + 1))) // self.step * self.step
            else:
                f, start = self._fixed[row - self.n_train]
            out.append((int(f), int(start)))
        return out

    def batch(self, rows, *, seed=None, augment: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, 1, crop_samples)`` crops (:meth:`positions`)."""
        out = [self._crop(f, start) for f, start in self.positions(rows, seed)]
        return torch.from_numpy(np.stack(out)[:, None]), self.targets(rows)

    def signature(self) -> list:
        return [self.sr, self.crop_samples, len(self.files)]

    def input_shape(self) -> dict:
        return {"sample_rate": self.sr, "crop_samples": self.crop_samples}

    def export_meta(self, model) -> dict:
        return {"model": getattr(model, "registry_name", type(model).__name__.lower()),
                "model_config": asdict(model.cfg), "task": self.task.name, "kind": self.task.kind, "classes": None,
                "feature_spec": str(self.feature_spec), "norm": self.norm, "sample_rate": self.sr}

    def describe(self) -> str:
        seconds = {s: sum(len(self.audio[f]) for f in files) / self.sr for s, files in self.file_split.items()}
        text = (f"audio: {len(self.files)} files at {self.sr} Hz, {seconds['train'] / 60:.1f} min train / "
                f"{seconds['val'] / 60:.1f} min val / {seconds['test'] / 60:.1f} min test; crops of "
                f"{self.crop_samples} samples, {self.n_train} per epoch")
        return text + "".join(f"\n  not used, unreadable: {path}: {cause}" for path, cause in self.failures)


def select_clips(clips: list, where: str | None, root) -> list:
    """The clips whose label ``KEY`` is one of the values of ``where`` (``"KEY=VALUE[,VALUE]"``, e.g.
    ``instrument=Violin``); an error naming the values present when none matches."""
    if not where:
        return clips
    rule = parse_test_group(where, flag="--clips")
    key, values = rule["group_key"], set(rule["test_groups"])
    chosen = [c for c in clips if str(c.labels.get(key)) in values]
    if not chosen:
        present = sorted({str(c.labels.get(key)) for c in clips})
        raise DatasetError(f"{root}: no clip has {key} in {sorted(values)}; present: {', '.join(present[:30])}")
    return chosen


def prepare_audio(data: str | None = None, *, sr: int, crop_samples: int, profile: str = "default",
                  test_group: str | None = None, max_files: int | None = None, min_train_samples: int = 0,
                  clips: str | None = None, need_test: bool = False, show_progress: bool | None = None
                  ) -> AudioCrops:
    """The audio of a dataset (default guitar-fx; ``folder:PATH`` for any folder of wav/flac/ogg/mp3, searched
    recursively) resampled to ``sr``, split as the dataset's layout does (EGFxSet: test on string 5, validate on
    another string; a folder: every tenth file validates, nothing is held out for testing unless ``need_test``).

    Files that cannot be read are left out and listed (``AudioCrops.failures``); if none can be read, or the
    training files hold less than ``min_train_samples`` (one batch of crops), it is an error naming the folder.
    ``max_files``: use at most this many training files, spread evenly over the sorted clips (a lesson's budget);
    validation and test read at most :data:`MAX_EVAL_CROPS` files each, as many as their crops need.
    ``clips``: only the clips with these labels (:func:`select_clips`).  ``need_test``: a layout without a test
    set (TinySOL's folds) holds out its first group for testing; a folder, every tenth file from the tenth.
    """
    ds = get_dataset(data or "guitar-fx", profile=profile, show_progress=show_progress)
    if not ds.clips:
        raise DatasetError(f"{ds.root}: no audio files (wav, flac, ogg, mp3) in the folder or below it")
    chosen = sorted(select_clips(ds.clips, clips, ds.root), key=lambda c: c.clip_id)
    if ds.reader.name == "folder":
        ids = [c.clip_id for c in chosen]
        val = ids[5::10] or ids[-1:]  # a folder of one file validates on that file
        test = ids[9::10] if need_test else []
        split = {"train": [i for i in ids if i not in val and i not in test] or ids, "val": val, "test": test}
    else:
        plan = default_split(ds, test_group=test_group)
        if need_test and not plan.test:
            key = ds.reader.split_convention(ds)["group_key"]
            groups = sorted({str(c.groups.get(key)) for c in ds.clips})
            plan = default_split(ds, test_group=f"{key}={groups[0]}", n_folds=min(5, len(groups) - 1))
        keep = {c.clip_id for c in chosen}
        split = {name: [i for i in ids if i in keep] for name, ids in
                 (("train", plan.folds[0]["train"]), ("val", plan.folds[0]["val"]), ("test", plan.test))}
    by_id = {c.clip_id: c for c in chosen}
    audio, position, file_split, result = [], {}, {}, BatchResult()  # position: path -> index into audio
    for name, ids in split.items():
        ids = sorted(ids)
        limit = max_files if name == "train" else min(max_files or MAX_EVAL_CROPS, MAX_EVAL_CROPS)
        if limit is not None and len(ids) > limit:
            ids = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, limit)]
        paths = [os.fspath(by_id[i].path) for i in ids]
        for path, y, _ in result.each_loaded([p for p in paths if p not in position], sr=sr):  # each file once
            position[path] = len(audio)
            audio.append(np.ascontiguousarray(y, dtype=np.float32))
        file_split[name] = np.array([position[p] for p in paths if p in position], dtype=np.int64)
    files = list(position)
    if not files:
        raise DatasetError(f"{ds.root}: none of its {len(chosen)} audio file(s) could be read:\n{result.summary()}")
    crops = AudioCrops(TASKS["audio"], audio, files, file_split, sr, crop_samples, result.failures)
    train_samples = sum(len(audio[f]) for f in file_split["train"])
    if train_samples < min_train_samples:
        raise DatasetError(f"{ds.root}: its training files hold {train_samples / sr:.2f} s of audio, less than one "
                           f"batch of crops ({min_train_samples / sr:.2f} s); add audio, or lower --batch-size or "
                           "crop_samples")
    if not len(file_split["val"]):
        raise DatasetError(f"{ds.root}: no readable file left for validation:\n{result.summary()}")
    return crops


@dataclass
class ControlCrops(AudioCrops):
    """Audio crops with their control curves (DDX7, DDSP's decoder): each file's f0 (Hz) and A-weighted loudness
    (dB) at ``control_rate_hz`` (:mod:`dl4mir.features.control`), computed once when the data is prepared.  A crop
    starts on a control frame, so ``batch`` gives ``(B, 1, crop_samples)`` audio and ``(B, 2, crop_samples / hop)``
    controls that line up."""

    controls: list[np.ndarray] = field(default_factory=list)  # per file (2, frames): f0_hz, loudness_db
    voiced: list[np.ndarray] = field(default_factory=list)  # per file (frames,): pitched frames
    hop: int = 64
    f0_method: str = "swift-f0"
    step = property(lambda self: self.hop)  # crops start on a control frame

    def __post_init__(self):
        if self.crop_samples % self.hop:
            raise ConfigError(f"crop of {self.crop_samples} samples is not a whole number of control frames "
                              f"({self.hop} samples)")
        super().__post_init__()

    def performance(self, f: int) -> Performance:
        return Performance(self.audio[f], self.controls[f], self.voiced[f])

    def batch(self, rows, *, seed=None, augment: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        audio, controls, n = [], [], self.crop_samples // self.hop
        for f, start in self.positions(rows, seed):
            audio.append(self._crop(f, start))
            c = self.controls[f][:, start // self.hop:start // self.hop + n]
            # past a file's end: its last pitch, and silence (the loudness floor), as the zero-padded audio
            pad = np.repeat(c[:, -1:], n - c.shape[1], axis=1)
            pad[1] = control.LOUDNESS_FLOOR_DB
            controls.append(np.concatenate([c, pad], axis=1))
        return torch.from_numpy(np.stack(audio)[:, None]), torch.from_numpy(np.stack(controls).astype(np.float32))

    def signature(self) -> list:
        return [*super().signature(), self.hop, self.f0_method]

    def input_shape(self) -> dict:
        return {**super().input_shape(), "control_rate_hz": self.sr / self.hop}

    def export_meta(self, model) -> dict:
        return {**super().export_meta(model), "control_rate_hz": self.sr / self.hop, "f0_method": self.f0_method}

    def describe(self) -> str:
        return super().describe().replace("audio:", f"audio with f0 ({self.f0_method}) and loudness at "
                                                   f"{self.sr / self.hop:g} frames/s:", 1)


@dataclass
class Performance:
    """A recording as a pitch-and-loudness decoder reads it."""

    audio: np.ndarray  # (n,) padded with silence to whole control frames
    curves: np.ndarray  # (2, n / hop): f0 (Hz, interpolated through unpitched frames) and loudness (dB)
    voiced: np.ndarray  # (n / hop,) the frames the tracker heard as pitched


def note_controls(y: np.ndarray, *, sr: int, hop: int, f0_method: str) -> Performance | None:
    """A note or performance and its control curves at ``sr / hop`` frames per second; ``None`` when the tracker
    finds no pitched frame in it."""
    y = np.pad(np.asarray(y, dtype=np.float32), (0, -len(y) % hop))
    f0, voiced = control.f0_track(y=y, sr=sr, frame_rate_hz=sr / hop, method=f0_method)
    if not voiced.any():
        return None
    curves = np.stack([f0, control.loudness_db(y=y, sr=sr, frame_rate_hz=sr / hop)]).astype(np.float32)
    return Performance(y, curves, voiced)


def prepare_controls(data: str | None = None, *, sr: int, crop_samples: int, control_rate_hz: float,
                     f0_method: str = "swift-f0", clips: str | None = None, profile: str = "default",
                     test_group: str | None = None, max_files: int | None = None, min_train_samples: int = 0,
                     show_progress: bool | None = None) -> ControlCrops:
    """:func:`prepare_audio` (with a test set) plus each file's control curves; a file in which the f0 tracker
    finds no pitch is left out and listed with the unreadable ones."""
    hop = int(round(sr / control_rate_hz))
    crops = prepare_audio(data, sr=sr, crop_samples=crop_samples, profile=profile, test_group=test_group,
                          max_files=max_files, min_train_samples=min_train_samples, clips=clips, need_test=True,
                          show_progress=show_progress)
    played, files, index, failures = [], [], {}, list(crops.failures)
    for i, (path, y) in enumerate(zip(crops.files, crops.audio)):
        performance = note_controls(y, sr=sr, hop=hop, f0_method=f0_method)
        if performance is None:
            failures.append((path, f"no pitched frame found by {f0_method}"))
            continue
        index[i] = len(played)
        played.append(performance)
        files.append(path)
    file_split = {k: np.array([index[int(f)] for f in v if int(f) in index], dtype=np.int64)
                  for k, v in crops.file_split.items()}
    if not len(file_split["train"]) or not len(file_split["val"]):
        raise DatasetError(f"{data or 'guitar-fx'}: no pitched file left for training or validation:\n"
                           + "\n".join(f"  {p}: {why}" for p, why in failures))
    return ControlCrops(TASKS["controls"], [p.audio for p in played], files, file_split, sr, crop_samples, failures,
                        controls=[p.curves for p in played], voiced=[p.voiced for p in played], hop=hop,
                        f0_method=f0_method)
