"""dl4mir: deep learning for music information retrieval, the course as a tested toolkit.

The package imports nothing heavy at the top so that ``dl4mir --help`` and ``import dl4mir`` stay instant;
sub-modules (``dl4mir.audio``, ``dl4mir.data``, ...) load their dependencies when first used.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

from dl4mir.errors import AudioError, ConfigError, DatasetError, Dl4mirError  # noqa: E402  (light, no deps)

_SUBMODULES = {"audio", "data", "cli"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"dl4mir.{name}")
    raise AttributeError(f"module 'dl4mir' has no attribute {name!r}")


__all__ = ["AudioError", "ConfigError", "DatasetError", "Dl4mirError", "__version__", *sorted(_SUBMODULES)]
