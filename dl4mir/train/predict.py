"""Classify any audio file with an exported model: any sample rate, any channel count (mixed down), any length.

The model's window (its training ``duration_s``) slides over the whole file with a hop (default: half a window);
the file's answer is the mean of the windows' probabilities (values, for regression).  Input a model was not
trained for — silent, near-silent, much shorter than the window, clipped — is answered with a warning, never
silently.  Bad files are reported at the end, never skipped silently."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from dl4mir.audio import BatchResult, fit_to_length, resample
from dl4mir.data import get_dataset
from dl4mir.data.egfxset import EFFECT_TYPES, effect_type_of
from dl4mir.errors import ConfigError, DatasetError, ParameterError
from dl4mir.features.bands import standardize_bands
from dl4mir.features.cache import FeatureSpec
from dl4mir.metrics import classification_report
from dl4mir.models import SYNTH_ESTIMATORS
from dl4mir.train.checkpoint import load_exported

SILENT_PEAK_DBFS = -80.0  # below this peak a file is digital silence or a noise floor
QUIET_RMS_DBFS = -60.0  # below this RMS, far quieter than any note the models were trained on
CLIPPED_SHARE = 0.001  # share of samples at full scale above which a file counts as clipped
SHORT_SHARE = 0.5  # a file shorter than this share of the model's window is mostly zero-padding
BATCH = 64  # windows per forward pass


@dataclass
class Prediction:
    """One file's answer: ``top`` is ``[(class, mean probability), …]`` (``[(task, value)]`` for regression)."""

    top: list
    duration_s: float
    warnings: list[str] = field(default_factory=list)
    windows: list[dict] = field(default_factory=list)  # {"start_s", "end_s", "top"} per window

    def to_json(self) -> dict:
        return {"top": [{"label": c, "score": p} for c, p in self.top], "duration_s": self.duration_s,
                "warnings": self.warnings, "windows": self.windows}


def _dbfs(x: float) -> float:
    return 20 * np.log10(max(x, 1e-12))


def input_warnings(y: np.ndarray, sr: int, *, window_s: float) -> list[str]:
    """What is unusual about a mono signal ``y`` as input to a model trained on ``window_s``-second notes."""
    out = []
    peak = float(np.abs(y).max()) if len(y) else 0.0
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if len(y) else 0.0
    if _dbfs(peak) < SILENT_PEAK_DBFS:
        out.append(f"silent (peak {_dbfs(peak):.0f} dBFS): the answer means nothing")
    elif _dbfs(rms) < QUIET_RMS_DBFS:
        out.append(f"near-silent (RMS {_dbfs(rms):.0f} dBFS): far quieter than the training notes")
    clipped = float(np.mean(np.abs(y) >= 0.999)) if len(y) else 0.0
    if clipped > CLIPPED_SHARE:
        out.append(f"clipped ({clipped:.1%} of samples at full scale)")
    if len(y) < SHORT_SHARE * window_s * sr:
        out.append(f"{len(y) / sr:.2f} s long, much shorter than the model's {window_s:.2f} s window "
                   "(the rest is zero-padding)")
    return out


def window_starts(n: int, *, window: int, hop: int) -> list[int]:
    """Starts of windows of ``window`` samples every ``hop`` over ``n`` samples; the last window ends at the end
    so no sample is left out (one window, zero-padded, when ``n <= window``)."""
    if n <= window:
        return [0]
    starts = list(range(0, n - window + 1, hop))
    if starts[-1] + window < n:
        starts.append(n - window)
    return starts


def prepare_input(y: np.ndarray, spec: FeatureSpec, norm: dict) -> torch.Tensor:
    x = torch.from_numpy(spec.compute(y).astype(np.float32))
    if spec.name == "waveform":
        return x[None]  # (1, samples)
    return standardize_bands(x, norm)  # (n_mels, frames)


@dataclass
class Windows:
    """One file cut into a model's windows: ``x`` their features ``(windows, …)``, at ``starts`` samples of ``y``."""

    x: torch.Tensor
    starts: list[int]
    warnings: list[str]
    y: np.ndarray  # the file at the model's rate
    spec: FeatureSpec
    window: int  # samples per window


def file_windows(meta: dict, paths, result: BatchResult, *, hop_s: float | None = None, max_channels: int = 8,
                 source="the model"):
    """Yield ``(path, Windows)`` for each file of ``paths`` that loads (the others go to ``result.failures``):
    the model's window (its features' ``duration_s``) every ``hop_s`` seconds (default half a window)."""
    spec = FeatureSpec.parse(meta["feature_spec"])
    window_s = float(spec.duration_s or 0)
    if window_s <= 0:
        raise ConfigError(f"{source}: the model's feature spec {spec} has no duration_s window")
    hop_s = window_s / 2 if hop_s is None else hop_s
    if not hop_s > 0:
        raise ParameterError(f"hop must be positive seconds, got {hop_s}")
    window, hop = int(round(window_s * spec.sr)), max(1, int(round(hop_s * spec.sr)))
    at_window = replace(spec, offset_s=0.0)  # windows are cut here; the training crop's offset does not apply
    for p, y, file_sr in result.each_loaded(paths, sr=None, mono=True, max_channels=max_channels):
        warnings = input_warnings(y, file_sr, window_s=window_s)  # at the file's rate: clipping is exact there
        y = resample(y, orig_sr=file_sr, target_sr=spec.sr)
        starts = window_starts(len(y), window=window, hop=hop)
        x = torch.stack([prepare_input(fit_to_length(y[s:s + window], length=window), at_window, meta["norm"])
                         for s in starts])
        yield p, Windows(x, starts, warnings, y, spec, window)


def predict_files(export_dir: str | os.PathLike, paths, *, top_k: int = 3, hop_s: float | None = None,
                  max_channels: int = 8) -> BatchResult:
    """``BatchResult`` whose ``ok`` maps each path to its :class:`Prediction`.  ``hop_s``: seconds between
    window starts (default: half the model's window)."""
    model, meta = load_exported(Path(export_dir))
    if meta.get("kind") == "generative":
        raise ConfigError(f"{export_dir} holds a generative model ({meta['model']}); use `dl4mir generate`")
    return predict_with(model, meta, paths, top_k=top_k, hop_s=hop_s, max_channels=max_channels, source=export_dir)


def predict_with(model: torch.nn.Module, meta: dict, paths, *, top_k: int = 3, hop_s: float | None = None,
                 max_channels: int = 8, source="the model") -> BatchResult:
    """:func:`predict_files` with a model in memory and its export metadata (``TaskData.export_meta``)."""
    result = BatchResult()
    for p, w in file_windows(meta, paths, result, hop_s=hop_s, max_channels=max_channels, source=source):
        with torch.no_grad():
            out = torch.cat([model(w.x[i:i + BATCH]) for i in range(0, len(w.x), BATCH)])
        if meta["kind"] == "classification":
            probs = torch.softmax(out, dim=1)  # (windows, classes)
            per_window = [_top(pr, meta["classes"], top_k) for pr in probs]
            top = _top(probs.mean(0), meta["classes"], top_k)
        else:
            norm = meta["norm"]
            values = out.reshape(len(out)) * norm.get("target_std", 1.0) + norm.get("target_mean", 0.0)
            per_window = [[(meta["task"], float(v))] for v in values]
            top = [(meta["task"], float(values.mean()))]
        sr = w.spec.sr
        windows = [{"start_s": s / sr, "end_s": min(s + w.window, len(w.y)) / sr, "top": t}
                   for s, t in zip(w.starts, per_window)]
        result.ok[p] = Prediction(top=top, duration_s=len(w.y) / sr, warnings=w.warnings, windows=windows)
    return result


def _top(probs: torch.Tensor, classes: list, k: int) -> list:
    top = torch.topk(probs, min(k, len(probs)))
    return [(classes[i], float(v)) for v, i in zip(top.values, top.indices)]


def tempo_files(export_dir: str | os.PathLike, paths) -> BatchResult:
    """``BatchResult`` whose ``ok`` maps each path to its tempo in BPM by an exported ``tempo-cnn``: the median of
    its estimates over windows of the model's view (7.8 s, half overlapping) of the file's onset envelope.

    A ``tempo-ssl`` model is refused: its codes are tempo only up to an offset that labels fix (fine-tune it into a
    tempo-cnn, as the tempo-ssl lesson does, or calibrate it with :func:`dl4mir.models.tempo_ssl.calibrate`)."""
    model, meta = load_exported(Path(export_dir))
    if meta["model"] != "tempo-cnn":
        raise ConfigError(f"{export_dir} holds a {meta['model']} model; `dl4mir tempo --model` needs a tempo-cnn "
                          "(a tempo-ssl model knows tempo only up to an offset that a few labels fix: fine-tune it, "
                          "see the tempo-ssl lesson)")
    spec = replace(FeatureSpec.parse(meta["feature_spec"]), duration_s=None, offset_s=0.0)  # the whole file
    window = model.view_frames
    result = BatchResult()
    for p, y, _ in result.each_loaded(paths, sr=spec.sr, mono=True):
        env = spec.compute(y).astype(np.float32)
        starts = window_starts(len(env), window=window, hop=window // 2)
        x = torch.from_numpy(np.stack([fit_to_length(env[s:s + window], length=window) for s in starts]))
        with torch.no_grad():
            result.ok[p] = float(np.median(model.bpm(x).numpy()))
    return result


def estimate_patch(export_dir: str | os.PathLike, y: np.ndarray, sr: int, *,
                   synth: str | None = None) -> tuple[str, np.ndarray]:
    """``(synth, point in its unit cube)``: an exported ``synth-estimator``'s patch for mono ``y`` at ``sr``, from
    the first window of the model's length (the notes it learned from start at their onset).  A single-synth model
    programs its own synth (``synth``, if given, must be it); a multi-task one the ``synth`` asked for."""
    model, meta = load_exported(Path(export_dir))
    if meta["model"] not in SYNTH_ESTIMATORS:
        raise ConfigError(f"{export_dir} holds a {meta['model']} model; estimating a patch needs one of "
                          f"{', '.join(SYNTH_ESTIMATORS)} (dl4mir train synth-estimator --task fm-params)")
    multi = meta["model_config"].get("multi_task", "none") != "none"
    own = list(meta["model_config"]["synths"]) if multi else [meta["task"].removesuffix("-params")]
    if synth is None and len(own) > 1:
        raise ConfigError(f"{export_dir} programs {', '.join(own)}: say which synth (--synth)")
    synth = synth or own[0]
    if synth not in own:
        raise ConfigError(f"{export_dir} was trained on {', '.join(own)} patches, not {synth!r}")
    spec = FeatureSpec.parse(meta["feature_spec"])
    return synth, patch_units(model, spec, meta["norm"], y, sr, synth=synth if multi else None)


def patch_units(model, spec: FeatureSpec, norm: dict, y: np.ndarray, sr: int, *, synth: str | None = None
                ) -> np.ndarray:
    """A trained synth estimator's point in the unit cube for mono ``y`` at ``sr``, read as it was trained
    (``spec``, ``norm``: its data's), from the first window of its length; ``synth`` for a multi-task model."""
    spec = replace(spec, offset_s=0.0)
    window = int(round(float(spec.duration_s) * spec.sr))
    x = prepare_input(fit_to_length(resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=spec.sr),
                                    length=window), spec, norm)
    with torch.no_grad():
        return model.params(x[None], synth)[0].numpy()


def real_guitar_report(model: torch.nn.Module, meta: dict, folder: str | os.PathLike) -> dict:
    """How an effect (or effect-type) classifier does on a folder of real recordings: effect-type accuracy,
    balanced accuracy, recall per type and the confusion matrix, through the same windows as ``dl4mir predict``.

    ``folder`` is read as ``folder:PATH`` (labels from the first folder level, ``PATH/delay/take1.wav``, or from
    ``labels.csv``); each label must name an effect type, an EGFxSet effect or its folder.  Unlabelled files and
    unknown labels are an error naming them; files that fail to load are listed in ``failures``."""
    if meta.get("task") not in ("effect", "effect_type"):
        raise ConfigError(f"a real-guitar evaluation needs an effect or effect_type model, not a {meta.get('task')} "
                          "one")
    ds = get_dataset(f"folder:{folder}")
    labels = {str(c.path): c.labels["label"] for c in ds.clips}
    bad = sorted(f"{Path(p).relative_to(ds.root)} ({'no label' if lab is None else repr(lab)})"
                 for p, lab in labels.items() if lab is None or effect_type_of(lab) is None)
    if bad:
        raise DatasetError(f"{folder}: {len(bad)} file(s) have no effect-type label: {', '.join(bad[:5])}"
                           f"{' …' if len(bad) > 5 else ''}; name the first folder (or the labels.csv label) after "
                           f"an effect type ({', '.join(EFFECT_TYPES)}) or an EGFxSet effect")
    return {"folder": str(folder), **effect_type_report(model, meta, labels, source=folder)}


def effect_type_report(model: torch.nn.Module, meta: dict, labels: dict, *, source="the model") -> dict:
    """Effect-type accuracy, balanced accuracy, recall per type and the confusion matrix of a classifier on
    ``{path: label}`` (labels as :func:`~dl4mir.data.egfxset.effect_type_of` reads them), through the windows of
    ``dl4mir predict``; files that fail to load are listed in ``failures``, not counted."""
    labels = {str(p): lab for p, lab in labels.items()}
    result = predict_with(model, meta, list(labels), top_k=1, source=source)
    true = [effect_type_of(labels[str(p)]) for p in result.ok]
    pred = [effect_type_of(pr.top[0][0]) for pr in result.ok.values()]
    present = [t for t in EFFECT_TYPES if t in true or t in pred]
    rep = classification_report(true, pred, labels=present)
    return {"n_files": len(true), "accuracy": rep["accuracy"], "balanced_accuracy": rep["balanced_accuracy"],
            "recall": {t: rep["per_class"][t]["recall"] for t in present if t in true},
            "labels": present, "confusion_matrix": rep["confusion_matrix"],
            "failures": [(str(p), cause) for p, cause in result.failures]}
