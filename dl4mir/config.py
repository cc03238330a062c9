"""Training configuration from TOML files and ``--set KEY=VALUE`` overrides.

A file has up to two tables, checked against the dataclasses they fill::

    [model]            # fields of the model's config class, e.g. dl4mir.models.vae.VAEConfig
    latent_dim = 8
    beta = 0.5

    [train]            # fields of dl4mir.train.loop.TrainConfig
    epochs = 20
    lr = 0.001

Unknown tables or keys are errors that name the file and the key, so a typo never trains the wrong model.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from dl4mir.errors import ConfigError


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def read_toml(path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def parse_overrides(items) -> dict:
    """``["latent_dim=8", "beta=0.5"]`` → ``{"latent_dim": 8, "beta": 0.5}`` (ints, floats, true/false, strings)."""
    from dl4mir.features.cache import _parse_value

    out = {}
    for item in items or ():
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        v = value.strip()
        out[key.strip()] = {"true": True, "false": False}.get(v.lower(), _parse_value(v))
    return out


def training_config(model_name: str, *, path=None, overrides=None) -> tuple[dict, dict]:
    """``(model config keys, TrainConfig keys)`` from a TOML file and ``--set`` overrides (model keys first, then
    training keys; an override names a field of either)."""
    from dl4mir.models import model_classes
    from dl4mir.train.loop import TrainConfig

    model_fields, train_fields = _fields(model_classes(model_name)[1]), _fields(TrainConfig)
    model_cfg, train_cfg = {}, {}
    if path is not None:
        doc = read_toml(path)
        for table in doc:
            if table not in ("model", "train"):
                raise ConfigError(f"{path}: unknown table [{table}]; use [model] and [train]")
        for table, allowed, dest in (("model", model_fields, model_cfg), ("train", train_fields, train_cfg)):
            for key, value in doc.get(table, {}).items():
                if key not in allowed:
                    raise ConfigError(f"{path}: [{table}] has no key {key!r}; it takes {', '.join(sorted(allowed))}")
                dest[key] = value
    for key, value in parse_overrides(overrides).items():
        if key in model_fields:
            model_cfg[key] = value
        elif key in train_fields:
            train_cfg[key] = value
        else:
            raise ConfigError(f"--set {key}: not a field of {model_name}'s config ({', '.join(sorted(model_fields))}) "
                              f"or of the training config ({', '.join(sorted(train_fields))})")
    return model_cfg, train_cfg
