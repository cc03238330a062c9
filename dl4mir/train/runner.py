"""The one way to train a model, whoever asks (the CLI, a lesson, a notebook)::

    result = train_model("cnn", "effect", profile="quick", out="runs/train/cnn-effect", train={"epochs": 3})
    result.model, result.summary, result.folder.export_dir

:func:`train_model` builds the model from its name and the task's shapes, resolves its settings, trains it with
:func:`dl4mir.train.loop.fit` and keeps everything in a :class:`RunFolder`.

Settings are resolved in one order, each source overriding the one before::

    the dataclasses' defaults  <  a TOML file ([model], [train])  <  --set KEY=VALUE  <  explicit arguments/flags

A folder remembers the settings it was trained with (``train_args.json``, written once, at the start).  Training
into it again resumes only when the settings that define the run are the same; otherwise it stops and names what
differs.  ``resume="fresh"`` starts over in the folder, ``resume="resume"`` insists on continuing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from dl4mir import __version__
from dl4mir.config import parse_overrides, read_toml
from dl4mir.errors import ConfigError, TrainingError
from dl4mir.models import AUDIO_LANGUAGE, build_model, input_kind, model_classes
from dl4mir.train.checkpoint import load_exported
from dl4mir.train.data import AudioCrops, TaskData, prepare, prepare_audio, prepare_captions, prepare_controls
from dl4mir.train.loop import TrainConfig, fit
from dl4mir.train.retrieval import embed_features
from dl4mir.train.scenes import VideoMixtures, prepare_scenes

# settings that change how a run is carried out or where it stops, not what it computes: a resume may change them
NOT_DEFINING = ("device", "progress", "checkpoint_every", "max_steps", "export")
RESUME_MODES = ("auto", "resume", "fresh")


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def resolve_settings(model_name: str, *, config=None, overrides=None, explicit: dict | None = None
                     ) -> tuple[dict, dict]:
    """``(model config keys, TrainConfig keys)`` from defaults < TOML ``config`` < ``overrides`` (``--set``
    strings) < ``explicit`` (a dict of either kind of key; the CLI passes only the flags a user typed).

    Unknown keys are errors that say where they came from and which keys exist.  A model may name its own default
    TOML (``default_config``: RAVE's small configuration), used when ``config`` is ``None``.
    """
    cls, cfg_cls = model_classes(model_name)
    model_fields, train_fields = _fields(cfg_cls), _fields(TrainConfig)
    if config is None and getattr(cls, "default_config", None):
        config = cls.default_config
    model_cfg, train_cfg = {}, {}

    def put(key, value, where):
        if key in model_fields:
            model_cfg[key] = value
        elif key in train_fields:
            train_cfg[key] = value
        else:
            raise ConfigError(f"{where} {key}: not a field of {model_name}'s config ({', '.join(sorted(model_fields))}) "
                              f"or of the training config ({', '.join(sorted(train_fields))})")

    if config is not None:
        doc = read_toml(config)
        for table in doc:
            if table not in ("model", "train"):
                raise ConfigError(f"{config}: unknown table [{table}]; use [model] and [train]")
        for table, allowed in (("model", model_fields), ("train", train_fields)):
            for key, value in doc.get(table, {}).items():
                if key not in allowed:
                    raise ConfigError(f"{config}: [{table}] has no key {key!r}; it takes {', '.join(sorted(allowed))}")
                put(key, value, f"{config}: [{table}]")
    for key, value in parse_overrides(overrides).items():
        put(key, value, "--set")
    for key, value in (explicit or {}).items():
        put(key, value, "setting")
    return model_cfg, train_cfg


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def defining(settings: dict) -> dict:
    """The part of a run's settings that a resume must match."""
    return {**{k: v for k, v in settings.items() if k not in ("train", "dl4mir")},
            "train": {k: v for k, v in settings.get("train", {}).items() if k not in NOT_DEFINING}}


def _differences(old, new, prefix="") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            out += _differences(old.get(k), new.get(k), f"{prefix}{k}.")
        return out
    return [] if old == new else [f"{prefix[:-1]}: {old!r} then, {new!r} now"]


class RunFolder:
    """A training run on disk::

        train_args.json    the settings it was trained with (written once, at the start)
        checkpoints/       last.pt (exact resume), best.pt (weights)
        steps.csv, epochs.csv
        summary.json       steps, epochs, validation history, test metrics
        test_metrics.json  written by ``dl4mir evaluate``
        export/            model.safetensors + config.json, what ``predict`` and ``generate`` load
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    settings_path = property(lambda self: self.path / "train_args.json")
    summary_path = property(lambda self: self.path / "summary.json")
    test_metrics_path = property(lambda self: self.path / "test_metrics.json")
    checkpoint_dir = property(lambda self: self.path / "checkpoints")
    export_dir = property(lambda self: self.path / "export")

    @classmethod
    def open(cls, path) -> "RunFolder":
        """An existing folder that ``dl4mir train`` wrote; a clear error for anything else."""
        folder = cls(path)
        if not folder.settings_path.is_file():
            raise ConfigError(f"{folder.path}: not a `dl4mir train` output folder (no {folder.settings_path.name})")
        return folder

    def settings(self) -> dict | None:
        if not self.settings_path.is_file():
            return None
        try:
            return json.loads(self.settings_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{self.settings_path}: unreadable settings ({exc}); start over with --fresh") from None

    def has_checkpoint(self) -> bool:
        return (self.checkpoint_dir / "last.pt").is_file()

    def prepare(self, settings: dict, *, resume: str = "auto") -> bool:
        """Get the folder ready for a run with ``settings``; returns whether training will resume.

        ``auto``: resume if the folder holds this run, start if it is empty, refuse if it holds another run;
        ``resume``: as auto, but a folder with nothing to resume is an error; ``fresh``: delete what an earlier
        run left here and start over.
        """
        if resume not in RESUME_MODES:
            raise ConfigError(f"resume must be one of {', '.join(RESUME_MODES)}, got {resume!r}")
        if resume == "fresh":
            self.clear()
        old = self.settings()
        if old is None and self.has_checkpoint():
            raise TrainingError(f"{self.path} holds a checkpoint but no {self.settings_path.name}, so it cannot be "
                                "checked against these settings; use --fresh to start over or --out elsewhere")
        if old is not None:
            diffs = _differences(defining(old), defining(_jsonable(settings)))
            if diffs:
                raise TrainingError(
                    f"{self.path} holds a run trained with other settings ({'; '.join(diffs)}). Use --fresh to "
                    "start over in that folder, --out DIR to train elsewhere, or repeat its settings to resume it "
                    f"(they are in {self.settings_path}).")
        resuming = self.has_checkpoint()
        if resume == "resume" and not resuming:
            raise TrainingError(f"--resume: {self.path} has no checkpoint to continue from")
        if old is None:
            self.path.mkdir(parents=True, exist_ok=True)
            tmp = self.settings_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(_jsonable(settings), indent=1))
            os.replace(tmp, self.settings_path)
        return resuming

    def clear(self) -> None:
        """Remove everything a run writes here (and nothing else a user may have put in the folder)."""
        for name in ("checkpoints", "export"):
            shutil.rmtree(self.path / name, ignore_errors=True)
        for p in (self.settings_path, self.summary_path, self.test_metrics_path, self.path / "steps.csv",
                  self.path / "epochs.csv"):
            p.unlink(missing_ok=True)

    def write_summary(self, summary: dict) -> None:
        self.summary_path.write_text(json.dumps(summary, default=str, indent=1))

    def write_test_metrics(self, report: dict) -> Path:
        self.test_metrics_path.write_text(json.dumps(report, default=str, indent=1))
        return self.test_metrics_path

    def load_model(self):
        """``(model in eval mode, meta)`` from ``export/``."""
        return load_exported(self.export_dir)


@dataclass
class TrainedModel:
    model: torch.nn.Module  # in eval mode, with the best validation weights
    summary: dict  # what fit() returns: steps, epochs, validation history, test metrics, seconds
    folder: RunFolder
    data: TaskData
    resumed: bool


def train_model(model: str, task: str | TaskData | AudioCrops | VideoMixtures | None = None, *, data: str | None = None,
                profile: str = "default", out: str | os.PathLike | None = None, config=None, overrides=None,
                model_config: dict | None = None, train: dict | None = None, resume: str = "auto",
                init_from: torch.nn.Module | None = None, audio_model: tuple | None = None,
                test_group: str | None = None, clips: str | None = None, show_progress: bool | None = None,
                on_step=None) -> TrainedModel:
    """Build ``model`` for ``task``, train it with the one loop into ``out`` and export it.

    Parameters
    ----------
    model : a registered model name (``dl4mir.models.REGISTRY``), e.g. ``"cnn"``, ``"cvae"``.
    task : a task name (``dl4mir.train.data.TASKS``), or a :class:`TaskData` / :class:`AudioCrops` already
        prepared (lessons reuse one for several models); ``None``: the model's own (``audio`` for RAVE,
        ``captions`` for the audio–language models, ``scenes`` / ``mixtures`` for the audio-visual ones, else
        ``effect``).
    data, profile : the dataset spec and profile when ``task`` is a name (default: the task's synthetic dataset).
    out : the run folder (default ``runs/train/<model>-<task>``).
    config, overrides, model_config, train : settings, lowest to highest precedence: a TOML file, ``--set``
        strings, then explicit model-config and TrainConfig keys.
    resume : ``"auto"``, ``"resume"`` or ``"fresh"`` (see :meth:`RunFolder.prepare`).
    init_from : a model of the same architecture whose weights are the starting point (fine-tuning).
    audio_model : ``(model, meta)`` of a trained CLAP (:func:`dl4mir.train.checkpoint.load_exported`), the frozen
        audio tower a captioner (``clipcap``, ``clipcap-transformer``) reads; required for those, refused for others.
    test_group : ``"KEY=VALUE[,VALUE]"``, the groups held out for testing instead of the layout's convention.
    clips : ``"KEY=VALUE[,VALUE]"``, train on these clips only (the audio models: ``instrument=Violin``).
    on_step : called with the step number after every optimizer step (see :func:`dl4mir.train.loop.fit`).
    """
    cls, cfg_cls = model_classes(model)
    if getattr(cls, "needs_audio_model", False) and audio_model is None:
        raise ConfigError(f"{model} writes captions from a trained CLAP's audio embeddings: give one (dl4mir "
                          f"train {model} --audio-model RUN/export; train_model(..., audio_model=(model, meta)))")
    if audio_model is not None and not getattr(cls, "needs_audio_model", False):
        raise ConfigError(f"{model} does not read another model's audio embeddings; only the captioners do")
    task = task if task is not None else getattr(cls, "default_task", "effect")
    prepared = isinstance(task, (TaskData, AudioCrops, VideoMixtures))
    task_name = task.task.name if prepared else task
    folder = RunFolder(out or Path("runs") / "train" / f"{model}-{task_name}")
    model_cfg, train_cfg = resolve_settings(model, config=config, overrides=overrides,
                                            explicit={**(model_config or {}), **(train or {})})
    cfg = TrainConfig(**train_cfg)
    if clips and (prepared or input_kind(model) not in ("audio", "controls")):
        raise ConfigError("--clips chooses the clips of the audio models (rave, ddx7, hpn) prepared here; the "
                          "other tasks' clips come from their task")
    if prepared:
        task_data = task
    elif input_kind(model) == "audio":  # the model's sample rate and crop decide how the audio is read
        if task_name != "audio":
            raise ConfigError(f"{model} learns from audio itself (task 'audio'), not from the task {task_name!r}")
        defaults = {f.name: f.default for f in dataclasses.fields(cfg_cls)}
        sr, crop = (model_cfg.get(k, defaults[k]) for k in ("sample_rate", "crop_samples"))
        task_data = prepare_audio(data, sr=sr, crop_samples=crop, profile=profile, test_group=test_group,
                                  min_train_samples=cfg.batch_size * crop, clips=clips, show_progress=show_progress)
        print(task_data.describe())
    elif input_kind(model) == "controls":  # the model's rates and crop decide how audio and curves are read
        if task_name != "controls":
            raise ConfigError(f"{model} learns from audio with its pitch and loudness (task 'controls'), not from "
                              f"the task {task_name!r}")
        defaults = {f.name: f.default for f in dataclasses.fields(cfg_cls)}
        get = lambda k: model_cfg.get(k, defaults[k])  # noqa: E731
        task_data = prepare_controls(data, sr=get("sample_rate"), crop_samples=get("crop_samples"),
                                     control_rate_hz=get("control_rate_hz"), f0_method=get("f0_method"),
                                     clips=clips, profile=profile, test_group=test_group,
                                     min_train_samples=cfg.batch_size * get("crop_samples"),
                                     show_progress=show_progress)
        print(task_data.describe())
    elif input_kind(model) in ("scenes", "mixtures"):  # videos: the model's rate, length and frames decide
        if task_name != input_kind(model):
            raise ConfigError(f"{model} learns from the task {input_kind(model)!r}, not from {task_name!r}")
        defaults = {f.name: f.default for f in dataclasses.fields(cfg_cls)}
        get = lambda k, default=None: model_cfg.get(k, defaults.get(k, default))  # noqa: E731
        task_data = prepare_scenes(data, kind=task_name, sr=get("sample_rate"), n_samples=get("n_samples", 33075),
                                   n_frames_in=get("n_frames_in", 3), frame_size=get("frame_size", 112),
                                   crop_samples=get("crop_samples"), n_mix=getattr(cls, "n_mix", 2),
                                   profile=profile, show_progress=show_progress)
        print(task_data.describe())
    elif input_kind(model) == "captions":
        if task_name != "captions":
            raise ConfigError(f"{model} learns from clips paired with captions (task 'captions'), not from the task "
                              f"{task_name!r}")
        task_data = prepare_captions(data, profile=profile, test_group=test_group, show_progress=show_progress)
        print(task_data.describe())
    else:
        task_data = prepare(task, input_kind=input_kind(model), data=data, profile=profile, test_group=test_group,
                            show_progress=show_progress)
        _describe_data(task_data)
    if audio_model is not None:
        task_data, model_cfg = _captioner_inputs(task_data, model_cfg, audio_model)
    shape = task_data.input_shape()
    if getattr(cls, "own_objective", False) and task_data.task.kind != "generative":
        # the model's own objective (self-supervised, or its own use of the labels): trained and validated like a
        # generative model, given the regression target's scale so it can read the labels in their units
        shape.update({k: task_data.norm[k] for k in ("target_mean", "target_std") if k in task_data.norm})
        if "synths" in task_data.norm:  # every synth's patches: an index, then the longest patch's length
            sizes = tuple(task_data.norm["synth_n_params"])
            shape.update(synths=tuple(task_data.norm["synths"]), synth_n_params=sizes, n_params=max(sizes))
        elif task_data.y.ndim == 2:  # vector targets (a synth patch): their length
            shape["n_params"] = int(task_data.y.shape[1])
        task_data = replace(task_data, task=replace(task_data.task, kind="generative"))
    n_out = len(task_data.classes) if task_data.classes else 1
    net = build_model(model, seed=cfg.seed, **{"n_classes": n_out, **shape, **model_cfg})
    if init_from is not None:
        net.load_state_dict(init_from.state_dict())
    if audio_model is not None:
        net.clap.load_state_dict(audio_model[0].state_dict())
    settings = {"model": model, "task": task_name, "data": data if not prepared else None,
                "profile": profile if not prepared else None, "test_group": test_group, "clips": clips,
                "features": str(task_data.feature_spec),
                "model_config": asdict(net.cfg), "train": asdict(cfg),
                "init_from": None if init_from is None else type(init_from).__name__,
                "audio_model": None if audio_model is None else weights_digest(audio_model[0]), "dl4mir": __version__}
    resumed = folder.prepare(settings, resume=resume)
    summary = fit(net, task_data, cfg, folder.path, on_step=on_step)
    folder.write_summary(summary)
    return TrainedModel(net.eval(), summary, folder, task_data, resumed)


def weights_digest(model: torch.nn.Module) -> str:
    """A short hash of a model's weights: a run built on another model's weights is another run."""
    h = hashlib.sha1()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _captioner_inputs(data, model_cfg: dict, audio_model) -> tuple:
    """A captioner's data (its captions as words; the clips standardized as its CLAP's were) and config (the
    CLAP's architecture)."""
    clap, meta = audio_model
    if meta.get("model") not in AUDIO_LANGUAGE or meta["model_config"].get("objective", "infonce") != "infonce":
        raise ConfigError("a captioner reads a contrastive audio–language model (clap, clap-content-aware), not a "
                          f"{meta.get('model')} model")
    if meta["feature_spec"] != str(data.feature_spec):
        raise ConfigError(f"the CLAP model was trained on {meta['feature_spec']} features, these captions are "
                          f"{data.feature_spec}: train the captioner on data of the CLAP's kind")
    data = data.standardized_as(meta["norm"])  # another dataset's clips: standardized the way the CLAP learned them
    # the frozen towers give every clip the same embeddings each epoch: computed once (ClipCap does so with CLIP):
    # its audio's, and the text embedding of its (training-wording) captions, averaged
    audio = torch.from_numpy(embed_features(clap, data.X))
    with torch.no_grad():
        said = clap.embed_text(data.text_emb)  # (texts, D)
    said = torch.nn.functional.normalize(torch.stack([said[c].mean(dim=0) for c in data.captions]), dim=-1)
    data = replace(data, X=torch.stack([audio, said], dim=1), embedded=True)  # (N, 2, D)
    if data.target != "tokens":
        data = data.with_tokens(max_tokens=model_cfg.get("max_tokens", 24))
    return data, {**model_cfg, "clap": asdict(clap.cfg)}


def _describe_data(data: TaskData) -> None:
    print(f"{data.task.name}: {len(data.rows('train'))} train / {len(data.rows('val'))} val / "
          f"{len(data.rows('test'))} test clips; input {tuple(data.X.shape[1:])}")
    balance = data.class_balance()
    if balance:
        counts = balance["train"].values()
        print(f"class balance (train): {min(counts)}–{max(counts)} clips per class over {len(balance['train'])} classes")
