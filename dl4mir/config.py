"""Configuration from TOML files and ``--set KEY=VALUE`` overrides (see :func:`dl4mir.train.resolve_settings` for
how they fill a model's and the training loop's dataclasses, and in which order they win).

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

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from dl4mir.errors import ConfigError


def read_toml(path) -> dict:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def parse_value(text: str):
    """``"8"`` → 8, ``"0.5"`` → 0.5, ``"none"``/``"null"`` → None, anything else stays a string."""
    if text.lower() in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_overrides(items) -> dict:
    """``["latent_dim=8", "beta=0.5", "ratios=[1, 1, 3]"]`` → ``{"latent_dim": 8, "beta": 0.5, "ratios": [1, 1, 3]}``
    (ints, floats, true/false, lists as TOML writes them, strings)."""
    out = {}
    for item in items or ():
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        v = value.strip()
        if v.startswith("["):
            try:
                out[key.strip()] = tomllib.loads(f"v = {v}")["v"]
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"--set {item!r}: not a TOML list ({exc})") from None
            continue
        out[key.strip()] = {"true": True, "false": False}.get(v.lower(), parse_value(v))
    return out
