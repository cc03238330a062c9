"""Tasks and their data: which label to learn on which dataset, features held in memory, a leakage-free split,
standardization statistics from the training rows only, on-the-fly augmentation, class balance."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from dl4mir.errors import ConfigError


@dataclass(frozen=True)
class Task:
    name: str
    layout: str  # the dataset layout it needs
    label: str  # the Clip.labels key
    kind: str = "classification"  # or regression
    default_data: str = "guitar-fx"


TASKS = {t.name: t for t in (
    Task("effect", "egfxset", "effect"),
    Task("effect_type", "egfxset", "effect_type"),
    Task("pickup", "egfxset", "pickup"),
    Task("string", "egfxset", "string"),
    Task("midi", "egfxset", "midi", kind="regression"),
    Task("family", "tinysol", "family", default_data="instruments"),
    Task("instrument", "tinysol", "instrument", default_data="instruments"),
    Task("vowel", "vowels", "vowel", default_data="vowels"),
)}


def feature_spec_for(input_kind: str, duration_s: float):
    from dl4mir.features.cache import FeatureSpec

    if input_kind == "waveform":
        return FeatureSpec("waveform", sr=8000, duration_s=duration_s)
    if input_kind == "logmag":  # the generative models' spectrograms (a fixed length, see generate.spectrogram)
        from dl4mir.generate.spectrogram import SPEC

        return SPEC.feature_spec()
    return FeatureSpec("logmel", sr=16000, duration_s=duration_s,
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

    def batch(self, rows, augment_seed=None) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(np.asarray(rows))
        x = self.X[idx]
        if augment_seed is not None:
            x = augment_batch(x, self.feature_spec.name, seed=augment_seed)
        return x, self.y[idx]

    def class_balance(self) -> dict:
        if self.classes is None:
            return {}
        return {split: {self.classes[k]: int(v) for k, v in zip(*np.unique(self.y[rows].numpy(), return_counts=True))}
                for split, rows in self.split_rows.items()}

    def input_shape(self) -> dict:
        if self.feature_spec.name == "waveform":
            return {"n_samples": int(self.X.shape[-1])}
        if self.task.kind == "generative":
            return {"n_freq": int(self.X.shape[1]), "n_frames": int(self.X.shape[2])}
        return {"n_mels": int(self.X.shape[1]), "n_frames": int(self.X.shape[2])}

    def export_meta(self, model) -> dict:
        from dataclasses import asdict

        return {"model": getattr(model, "registry_name", type(model).__name__.lower()),
                 "model_config": asdict(model.cfg), "task": self.task.name, "kind": self.task.kind,
                "classes": self.classes, "feature_spec": str(self.feature_spec), "norm": self.norm}


def _band_stats(norm: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-band ``(mean, std)`` as ``(bands, 1)`` columns, from the training statistics in ``norm``."""
    return torch.tensor(norm["mean"])[:, None], torch.tensor(norm["std"])[:, None].clamp_min(1e-6)


def standardize_bands(x: torch.Tensor, norm: dict) -> torch.Tensor:
    """Per-mel-band standardization ``(x − mean) / std`` of ``(..., n_mels, frames)`` with the training statistics
    stored in ``norm``; training and ``predict`` both call this, so they cannot drift apart."""
    mean, std = _band_stats(norm)
    return (x - mean) / std


def unstandardize_bands(x: torch.Tensor, norm: dict) -> torch.Tensor:
    """The inverse of :func:`standardize_bands`."""
    mean, std = _band_stats(norm)
    return x * std + mean


def augment_batch(x: torch.Tensor, feature: str, *, seed) -> torch.Tensor:
    """Label-preserving changes drawn from ``seed`` (so a resumed run redraws exactly the same ones).

    Waveforms ``(B, 1, n)``, each change applied to a random half of the batch: varispeed pitch shift (±1
    semitone), a room impulse response (RT60 0.1–0.4 s), a zero-phase low-pass (Butterworth magnitude, 4th
    order, cutoff 0.15–0.45 × the sample rate), gain (±6 dB) and white noise at 20–40 dB SNR.
    Log-mel ``(B, mels, frames)``: gain (a level offset), a ±1 mel-band shift (≈ a small pitch shift) and one
    masked band of up to 4 mels (SpecAugment-style).
    """
    g = torch.Generator().manual_seed(int(np.random.SeedSequence(list(seed)).generate_state(1)[0]))
    n = x.shape[0]
    if feature == "waveform":
        return _augment_waveform(x, g)
    out = x + torch.empty(n, 1, 1).uniform_(-0.3, 0.3, generator=g)  # standardized units ≈ a few dB
    shifts = torch.randint(-1, 2, (n,), generator=g)
    out = torch.stack([torch.roll(out[i], int(shifts[i]), dims=0) for i in range(n)])
    width = torch.randint(0, 5, (n,), generator=g)
    start = torch.randint(0, max(1, x.shape[1] - 4), (n,), generator=g)
    for i in range(n):
        out[i, start[i]:start[i] + width[i]] = 0.0
    return out


def _augment_waveform(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    B, _, n = x.shape
    pick = lambda: torch.rand(B, generator=g) < 0.5  # noqa: E731  (which items get this change)
    out = x.clone()
    # varispeed pitch shift: read the clip faster or slower, re-cut to length
    which = pick()
    factors = 2 ** (torch.empty(B).uniform_(-1, 1, generator=g) / 12)
    for i in torch.nonzero(which).flatten().tolist():
        m = max(2, int(round(n / float(factors[i]))))
        y = torch.nn.functional.interpolate(out[i:i + 1], size=m, mode="linear", align_corners=False)
        out[i] = torch.nn.functional.pad(y, (0, max(0, n - m)))[..., :n][0]
    # room impulse response: exponentially decaying noise, convolved by FFT, RMS kept
    which = pick()
    if which.any():
        rt60 = torch.empty(B, 1).uniform_(0.1, 0.4, generator=g)  # seconds at 8 kHz
        length = int(0.4 * 8000)
        t = torch.arange(length) / 8000.0
        ir = torch.randn(B, length, generator=g) * 10 ** (-3 * t / rt60) * 0.3
        ir[:, 0] = 1.0
        size = n + length
        wet = torch.fft.irfft(torch.fft.rfft(out[:, 0], size) * torch.fft.rfft(ir, size), size)[:, :n]
        wet = wet * (out[:, 0].pow(2).mean(-1, keepdim=True) / wet.pow(2).mean(-1, keepdim=True).clamp_min(1e-12)).sqrt()
        out[:, 0] = torch.where(which[:, None], wet, out[:, 0])
    # zero-phase low-pass
    which = pick()
    if which.any():
        spec = torch.fft.rfft(out[:, 0])
        f = torch.linspace(0, 0.5, spec.shape[-1])
        cutoff = torch.empty(B, 1).uniform_(0.15, 0.45, generator=g)
        response = 1 / torch.sqrt(1 + (f / cutoff) ** 8)
        filtered = torch.fft.irfft(spec * response, n)
        out[:, 0] = torch.where(which[:, None], filtered, out[:, 0])
    # gain and noise
    gain = torch.where(pick(), 10 ** (torch.empty(B).uniform_(-6, 6, generator=g) / 20), torch.ones(B))
    out = out * gain[:, None, None]
    snr = torch.empty(B, 1, 1).uniform_(20, 40, generator=g)
    noise = torch.randn(out.shape, generator=g) * torch.sqrt(out.pow(2).mean(-1, keepdim=True) / 10 ** (snr / 10))
    return out + noise * pick()[:, None, None]


def prepare(task_name: str, *, input_kind: str = "logmel", data: str | None = None, profile: str = "default",
            val_fold: int = 0, show_progress: bool | None = None) -> TaskData:
    """Load a task's features (from the cache), split them leakage-free, standardize with training statistics.

    ``input_kind="logmag"`` prepares the generative models' log-magnitude spectrograms; the task's label then
    becomes the (categorical) condition of conditional models, and the task kind is "generative".

    The split is the dataset's course split (EGFxSet: test = string 5); the validation set is one grouped fold
    of the development set (EGFxSet: one more held-out string), so validation never sees a training string.
    """
    from dl4mir.data import get_dataset
    from dl4mir.data.splits import default_split
    from dl4mir.features.cache import load_table

    if task_name not in TASKS:
        raise ConfigError(f"unknown task {task_name!r}; choose from {', '.join(TASKS)}")
    task = TASKS[task_name]
    if input_kind == "logmag":
        task = replace(task, kind="generative")
    ds = get_dataset(data or task.default_data, profile=profile, show_progress=show_progress)
    if ds.reader.name != task.layout:
        raise ConfigError(f"task {task_name!r} needs a {task.layout}-layout dataset; {ds.name} is {ds.reader.name}")
    from dl4mir.audio import info

    duration = info(ds.clips[0].path).duration_s
    spec = feature_spec_for(input_kind, duration)
    table = load_table(ds, spec, show_progress=show_progress)
    if table.missing:
        print(f"note: {len(table.missing)} clip(s) without features are left out: {', '.join(table.missing[:5])}")
    plan = default_split(ds)
    index = {cid: i for i, cid in enumerate(table.clip_ids)}
    fold = plan.folds[val_fold % len(plan.folds)]
    split_rows = {name: np.array(sorted(index[c] for c in ids if c in index), dtype=np.int64)
                  for name, ids in (("train", fold["train"]), ("val", fold["val"]), ("test", plan.test))}
    raw = table.column(task.label)
    if task.kind in ("classification", "generative"):
        classes = sorted({str(v) for v in raw}, key=lambda s: (len(s), s) if s.isdigit() else (0, s))
        lookup = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([lookup[str(v)] for v in raw], dtype=torch.long)
    else:  # standardize the target with training statistics so one learning rate fits any unit
        y = torch.tensor(raw.astype(np.float32))
        t_mean, t_std = float(y[split_rows["train"]].mean()), float(y[split_rows["train"]].std().clamp_min(1e-6))
        classes, y = None, (y - t_mean) / t_std
    X = torch.from_numpy(table.X.astype(np.float32))
    if input_kind == "logmag":
        from dl4mir.generate.spectrogram import SPEC

        X = SPEC.from_magnitude(X)
    train = X[torch.as_tensor(split_rows["train"])]
    if input_kind == "waveform":
        X = X.unsqueeze(1)  # (N, 1, samples); already standardized per clip
        norm = {"kind": "per-clip zero-mean peak"}
    else:  # per-mel-band statistics of the training rows only
        norm = {"kind": "per-band", "mean": train.mean(dim=(0, 2)).tolist(), "std": train.std(dim=(0, 2)).tolist()}
        X = standardize_bands(X, norm)
    if task.kind == "regression":
        norm.update(target_mean=t_mean, target_std=t_std)
    scalar = [k for k, v in (table.labels[0] if table.labels else {}).items() if isinstance(v, (str, int, float))]
    labels = {key: table.column(key) for key in scalar}
    return TaskData(task, X, y, table.clip_ids, classes, split_rows, spec, norm, labels)
