"""Progress bars on what a person waits for, silent in CI and when output is not a terminal."""
from __future__ import annotations

import os
import sys


def progress(iterable, *, total: int | None = None, desc: str = "", enabled: bool | None = None):
    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="item", dynamic_ncols=True)
