"""One exception family for the whole package.

Every message says *what* went wrong, *where* (file, line, key) and, when there is one, *how to fix it*.
"""
from __future__ import annotations

import os


class Dl4mirError(Exception):
    """Base class of every error dl4mir raises on purpose."""


class AudioError(Dl4mirError):
    """An audio file could not be read or written as asked.

    Parameters
    ----------
    path : path-like or None
        The file concerned (``None`` for in-memory arrays).
    cause : str
        What is wrong with it.
    """

    def __init__(self, path: os.PathLike | str | None, cause: str):
        self.path = None if path is None else os.fspath(path)
        self.cause = cause
        where = "<array>" if path is None else self.path
        super().__init__(f"{where}: {cause}")


class DatasetError(Dl4mirError):
    """A dataset, its index or its metadata is missing, malformed or inconsistent."""


class ConfigError(Dl4mirError):
    """A configuration file or option is malformed."""


class ParameterError(Dl4mirError, ValueError):
    """A function was called with an argument it cannot use (a bad value, a wrong shape, a missing argument).

    It is also a ``ValueError``, so code written against NumPy's or librosa's conventions keeps catching it.
    """


class TrainingError(Dl4mirError):
    """Training cannot start or go on (a non-finite loss, an output folder holding a different run)."""


class CheckpointError(Dl4mirError):
    """A checkpoint or an exported model is missing, unreadable or malformed."""


class VideoError(Dl4mirError):
    """A video file could not be read or written as asked (``path``: the file; ``cause``: what is wrong)."""

    def __init__(self, path: os.PathLike | str | None, cause: str):
        self.path = None if path is None else os.fspath(path)
        self.cause = cause
        super().__init__(f"{'<array>' if path is None else self.path}: {cause}")
