"""Models, one readable file each: ``build_model("cnn", n_classes=13, n_mels=64, n_frames=126)``."""
from __future__ import annotations

import dataclasses
import importlib

from dl4mir.errors import ConfigError

# name -> (module, class, config class)
REGISTRY = {
    "mlp": ("mlp", "MLP", "MLPConfig"),
    "cnn": ("cnn", "CNN", "CNNConfig"),
    "waveform-cnn": ("waveform_cnn", "WaveformCNN", "WaveformCNNConfig"),
    "crnn": ("crnn", "CRNN", "CRNNConfig"),
    "transformer": ("transformer", "Transformer", "TransformerConfig"),
}


def model_classes(name: str):
    if name not in REGISTRY:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}")
    module, cls, cfg = REGISTRY[name]
    mod = importlib.import_module(f"dl4mir.models.{module}")
    return getattr(mod, cls), getattr(mod, cfg)


def build_model(name: str, *, seed: int = 0, **config):
    """Build a model with weights initialized from ``seed`` (torch seeds each process randomly otherwise).

    ``config`` keys that the model's config class does not have are ignored, so shape information can be shared.
    """
    import torch

    cls, cfg_cls = model_classes(name)
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    cfg = cfg_cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k in fields})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(cfg)


def input_kind(name: str) -> str:
    return model_classes(name)[0].input_kind
