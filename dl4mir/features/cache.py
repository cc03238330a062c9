"""Feature tables for whole datasets, cached on disk.

A :class:`FeatureSpec` names a feature and its parameters (``"logmel:n_mels=32,n_fft=4096"``).  Each clip's
result is stored as ``<cache>/<spec key>/<audio md5>.npy``: keyed by the audio's checksum and the parameters, so

* a second run recomputes nothing, and only new or changed clips are computed (incremental);
* every file is written atomically, so an interrupted run resumes where it stopped;
* ``shard=(i, n)`` takes every n-th clip starting at i, so a cluster job array can split a dataset across
  machines sharing the cache folder, and :func:`load_table` merges whatever the shards wrote into one table.

Bad clips are reported at the end with their cause, never fatal and never silently dropped.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dl4mir._progress import progress
from dl4mir.audio import fit_to_length, standardize
from dl4mir.config import parse_value
from dl4mir.data.dataset import dl4mir_home
from dl4mir.data.index import md5_file
from dl4mir.errors import AudioError, ConfigError, DatasetError, ParameterError
from dl4mir.features import rhythm as R
from dl4mir.features import spectral as F

# name -> (function(y, sr, **params) -> array, default params)
FEATURE_DEFAULTS = {
    "logmel": {"n_fft": 1024, "hop_length": 256, "n_mels": 64, "fmin": 0.0, "fmax": None},
    "mfcc": {"n_fft": 1024, "hop_length": 256, "n_mels": 64, "n_mfcc": 20},
    "spectrum_db": {"n_fft": None},
    "stats": {"n_fft": 1024, "hop_length": 256, "n_mfcc": 13},
    "stft_mag": {"n_fft": 1024, "hop_length": 512},
    "waveform": {},
    "onset": {"n_fft": 2048, "hop_length": 512, "n_mels": 128},
    "cqt": {"hop_length": 2048, "fmin_hz": 32.70, "n_bins": 168, "bins_per_octave": 24, "filter_scale": 1.0},
}


def _logmel(y, sr, **p):
    return F.log_mel(y=y, sr=sr, **p).astype(np.float32)


def _mfcc(y, sr, **p):
    return F.mfcc(y=y, sr=sr, **p).astype(np.float32)


def _spectrum_db(y, sr, n_fft=None):
    """|FFT| in dB of the whole (windowed) clip: the PCA lesson's input."""
    n = n_fft or len(y)
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=n))
    return F.amplitude_to_db(mag[None, :], ref=1.0, top_db=None)[0].astype(np.float32)


def _stft_mag(y, sr, n_fft=1024, hop_length=512):
    return np.abs(F.stft(y, n_fft=n_fft, hop_length=hop_length)).astype(np.float32)


STATS_NAMES = ("centroid", "bandwidth", "rolloff", "flatness", "zcr", "rms", "contrast")


def _stats(y, sr, n_fft=1024, hop_length=512, n_mfcc=13):
    """One vector per clip: mean and std over frames of spectral shape, ZCR, RMS (dB), contrast and MFCCs."""
    S, _ = F.spectrogram(y=y, n_fft=n_fft, hop_length=hop_length)
    rows = [F.spectral_centroid(S=S, sr=sr), F.spectral_bandwidth(S=S, sr=sr), F.spectral_rolloff(S=S, sr=sr),
            F.spectral_flatness(S=S), F.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop_length),
            20 * np.log10(np.maximum(F.rms(S=S, frame_length=n_fft), 1e-6)),
            F.spectral_contrast(S=S, sr=sr, n_bands=4, fmin=min(200.0, sr / 64)).mean(axis=0, keepdims=True),
            F.mfcc(S=F.melspectrogram(S=S ** 2, sr=sr, n_mels=64), sr=sr, n_mfcc=n_mfcc)]
    feats = np.concatenate(rows, axis=0)
    return np.concatenate([feats.mean(axis=1), feats.std(axis=1)]).astype(np.float32)


def stats_feature_names(n_mfcc: int = 13) -> list[str]:
    names = list(STATS_NAMES) + [f"mfcc{i}" for i in range(n_mfcc)]
    return [f"{n}_mean" for n in names] + [f"{n}_std" for n in names]


def _waveform(y, sr):
    """The samples themselves (at ``sr``, cropped/padded), standardized as the course does: zero mean, peak 1."""
    return standardize(y)


def _onset(y, sr, **p):
    """The onset-strength envelope (:func:`dl4mir.features.rhythm.onset_strength`) scaled to a peak of 1: rhythm
    without level."""
    env = R.onset_strength(y=y, sr=sr, **p)
    return (env / max(float(env.max()), 1e-9)).astype(np.float32)


def _cqt(y, sr, **p):
    """Constant-Q magnitude in dB below the clip's own maximum, floor −80 dB, scaled to 0…1 (0 = the floor):
    pitch without level, and a pitch-shift is a shift along the bins (C1 = 32.70 Hz upward, 24 bins per octave)."""
    db = F.amplitude_to_db(F.cqt(y, sr=sr, **p), ref=1.0, top_db=None)
    return np.clip((db - db.max() + 80.0) / 80.0, 0.0, 1.0).astype(np.float32)


_FUNCTIONS = {"logmel": _logmel, "mfcc": _mfcc, "spectrum_db": _spectrum_db, "stats": _stats, "stft_mag": _stft_mag,
              "waveform": _waveform, "onset": _onset, "cqt": _cqt}


TOP_LEVEL = ("sr", "duration_s", "offset_s", "rms_db")  # FeatureSpec fields, not the feature function's parameters


def normalize_rms(y: np.ndarray, *, rms_db: float, floor_db: float = -90.0) -> np.ndarray:
    """``y`` scaled to an RMS of ``rms_db`` dBFS, so a model never sees how loud a recording was made; a clip
    quieter than ``floor_db`` (digital silence, a dropout) is left as it is rather than blown up to noise."""
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if len(y) else 0.0
    if rms <= 10 ** (floor_db / 20):
        return y
    return (y * (10 ** (rms_db / 20) / rms)).astype(y.dtype, copy=False)


@dataclass(frozen=True)
class FeatureSpec:
    """A feature, the audio it is computed on (sample rate, crop), and its parameters."""

    name: str
    sr: int = 16000
    duration_s: float | None = None  # crop/zero-pad every clip to this length (from offset_s) so tables stack
    offset_s: float = 0.0
    params: tuple = field(default=())  # sorted (key, value) pairs overriding FEATURE_DEFAULTS[name]
    rms_db: float | None = None  # each clip (after the crop) scaled to this RMS level first; None: as recorded

    def __post_init__(self):
        if self.name not in _FUNCTIONS:
            raise ConfigError(f"unknown feature {self.name!r}; choose from {', '.join(_FUNCTIONS)}")
        unknown = sorted(k for k, _ in self.params if k not in FEATURE_DEFAULTS[self.name])
        if unknown:
            raise ConfigError(f"feature {self.name!r} has no parameter(s) {unknown}; "
                              f"it takes {sorted(FEATURE_DEFAULTS[self.name])} plus {', '.join(TOP_LEVEL)}")
        if self.sr <= 0 or (self.duration_s is not None and self.duration_s <= 0):
            raise ConfigError(f"sr and duration_s must be positive, got sr={self.sr}, duration_s={self.duration_s}")
        if self.rms_db is not None and not -80.0 <= self.rms_db <= 0.0:
            raise ConfigError(f"rms_db must be a level in -80..0 dBFS, got {self.rms_db}")

    @classmethod
    def parse(cls, text: str) -> "FeatureSpec":
        """``"mfcc:n_mfcc=13,sr=8000,duration_s=0.5"`` (also ``offset_s``, ``rms_db``) → FeatureSpec."""
        name, _, rest = text.partition(":")
        top, params = {}, {}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise ConfigError(f"feature spec {text!r}: {item!r} is not key=value")
            (top if key.strip() in TOP_LEVEL else params)[key.strip()] = parse_value(value.strip())
        return cls(name.strip(), params=tuple(sorted(params.items())), **top)

    @property
    def kwargs(self) -> dict:
        return {**FEATURE_DEFAULTS[self.name], **dict(self.params)}

    def key(self) -> str:
        # rms_db only when set: specs without it keep the keys (and cached tables) they always had
        payload = {"name": self.name, "sr": self.sr, "duration_s": self.duration_s, "offset_s": self.offset_s,
                   "params": self.kwargs, "v": 1, **({"rms_db": self.rms_db} if self.rms_db is not None else {})}
        return f"{self.name}-" + hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]

    def __str__(self):
        extra = [f"sr={self.sr}"] + ([f"duration_s={self.duration_s}"] if self.duration_s else []) + \
                ([f"offset_s={self.offset_s}"] if self.offset_s else []) + \
                ([f"rms_db={self.rms_db}"] if self.rms_db is not None else []) + [f"{k}={v}" for k, v in self.params]
        return f"{self.name}:{','.join(extra)}"

    def compute(self, y: np.ndarray) -> np.ndarray:
        """The feature of a mono waveform already at ``self.sr`` (cropped/padded here if ``duration_s``)."""
        if self.duration_s is not None:
            start = int(round(self.offset_s * self.sr))
            y = fit_to_length(y[start:], duration_s=self.duration_s, sr=self.sr)
        if self.rms_db is not None:
            y = normalize_rms(y, rms_db=self.rms_db)
        return _FUNCTIONS[self.name](np.asarray(y, dtype=np.float32), self.sr, **self.kwargs)

    def compute_clip(self, clip) -> np.ndarray:
        y, _ = clip.load(sr=self.sr)
        return self.compute(y)


def cache_dir(spec: FeatureSpec) -> Path:
    return dl4mir_home() / "features" / spec.key()


@dataclass
class ExtractReport:
    computed: int = 0
    cached: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    md5: dict[str, str] = field(default_factory=dict)  # clip id -> audio checksum, so callers need not re-hash

    def summary(self) -> str:
        lines = [f"{self.computed} computed, {self.cached} already cached, {len(self.failures)} failed"]
        lines += [f"  FAILED {cid}: {cause}" for cid, cause in self.failures]
        return "\n".join(lines)


def _clip_md5(clip) -> str:
    return md5_file(clip.path)  # the bytes on disk now, not the index's claim, decide what is cached


def check_parameters(spec: FeatureSpec) -> None:
    """Compute ``spec`` once on a second of quiet noise: a parameter the feature cannot use is one configuration
    error, raised before any clip is read, instead of the same failure reported for every clip."""
    sr = spec.sr or 16000
    probe = np.random.default_rng(0).standard_normal(int(sr * (spec.duration_s or 1.0))).astype(np.float32) * 1e-3
    try:
        spec.compute(probe)
    except (ParameterError, TypeError) as exc:  # TypeError: a parameter of the wrong kind, e.g. n_fft=abc
        raise ConfigError(f"feature spec {spec}: {exc}") from None


def _extract_shard(args) -> ExtractReport:
    dataset, spec, shard = args
    return extract(dataset, spec, shard=shard, show_progress=False)


def extract(dataset, spec: FeatureSpec, *, shard: tuple[int, int] = (0, 1), workers: int = 1,
            show_progress: bool | None = None) -> ExtractReport:
    """Compute ``spec`` for every clip of ``dataset`` in this shard that is not cached yet.

    ``workers > 1`` splits the work into that many shards computed by parallel processes on this machine (the
    same mechanism a cluster job array uses with ``shard``); their reports are merged.
    """
    i, n = shard
    if not (n >= 1 and 0 <= i < n):
        raise ConfigError(f"shard must be i/n with 0 <= i < n, got {i}/{n}")
    check_parameters(spec)
    if workers > 1 and n == 1 and len(dataset.clips) >= 8 * workers:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_extract_shard, [(dataset, spec, (k, workers)) for k in range(workers)]))
        merged = ExtractReport()
        for part in parts:
            merged.computed += part.computed
            merged.cached += part.cached
            merged.failures += part.failures
            merged.md5.update(part.md5)
        return merged
    out_dir = cache_dir(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "spec.json").write_text(json.dumps({"spec": str(spec), "kwargs": spec.kwargs}, default=str))
    report = ExtractReport()
    clips = dataset.clips[i::n]
    for clip in progress(clips, total=len(clips), desc=f"{spec.name} [{i}/{n}]", enabled=show_progress):
        try:
            report.md5[clip.clip_id] = _clip_md5(clip)
            target = out_dir / f"{report.md5[clip.clip_id]}.npy"
            if target.is_file():
                report.cached += 1
                continue
            value = spec.compute_clip(clip)
            if not np.isfinite(value).all():
                raise AudioError(clip.path, f"its {spec.name} feature has non-finite values")
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, value)
            os.replace(tmp, target)
            report.computed += 1
        except (AudioError, ParameterError, OSError) as exc:  # this clip's problem (unreadable, too short …)
            report.failures.append((clip.clip_id, str(exc)))
    return report


@dataclass
class FeatureTable:
    """Features of a dataset as one array, with the clips they belong to and those that are missing."""

    spec: FeatureSpec
    X: np.ndarray
    clip_ids: list[str]
    labels: list[dict]
    groups: list[dict]
    missing: list[str]

    def column(self, key: str) -> np.ndarray:
        return np.array([lab[key] for lab in self.labels])

    def save(self, path: str | os.PathLike) -> Path:
        """An ``.npz`` any NumPy reads without pickles: ``X``, ``clip_ids``, ``spec``, and one array per label
        (``label_<name>``) and per group key (``group_<name>``), row-aligned with ``X``."""
        path = Path(path)
        columns = {**_columns(self.labels, "label_"), **_columns(self.groups, "group_")}
        np.savez_compressed(path, X=self.X, clip_ids=np.array(self.clip_ids, dtype=str), spec=np.array(str(self.spec)),
                            **columns)
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")


def _columns(rows: list[dict], prefix: str) -> dict[str, np.ndarray]:
    """Dicts per row → one array per key.  A column whose values are all numbers stays numeric; any other column
    (text, or a value missing for some rows, written as "") is stored as strings."""
    keys = sorted({k for row in rows for k in row})
    out = {}
    for key in keys:
        values = [row.get(key) for row in rows]
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
        out[prefix + key] = np.array(values) if numeric else np.array(["" if v is None else str(v) for v in values])
    return out


def load_table(dataset, spec: FeatureSpec, *, compute_missing: bool = True,
               show_progress: bool | None = None) -> FeatureTable:
    """Merge the cached features of every clip into one table (computing what is missing unless told not to).

    Clips whose features cannot be computed are listed in ``missing`` (and excluded), never silently dropped.
    """
    if compute_missing:
        rep = extract(dataset, spec, workers=min(os.cpu_count() or 1, 8), show_progress=show_progress)
        failed, known = {cid for cid, _ in rep.failures}, rep.md5
    else:
        failed, known = set(), {}
    out_dir = cache_dir(spec)
    arrays, ids, labels, groups, missing = [], [], [], [], []
    for clip in dataset.clips:
        if clip.clip_id in failed:
            missing.append(clip.clip_id)
            continue
        path = out_dir / f"{known.get(clip.clip_id) or _clip_md5(clip)}.npy"
        if not path.is_file():
            missing.append(clip.clip_id)
            continue
        arrays.append(np.load(path))
        ids.append(clip.clip_id)
        labels.append(clip.labels)
        groups.append(clip.groups)
    if not arrays:
        raise DatasetError(f"no features for {dataset.name} with {spec}: {len(missing)} clips missing")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DatasetError(f"features of {spec} differ in shape across clips ({sorted(shapes)[:3]} …); "
                          "set duration_s so every clip has the same length")
    return FeatureTable(spec, np.stack(arrays), ids, labels, groups, missing)
