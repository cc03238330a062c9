"""``captions.csv``: natural-language descriptions of a dataset's audio, one row per caption.

Columns ``file,caption,split``: ``file`` relative to the dataset's folder, ``split`` the caption's **wording** —
``train`` sentences for training, ``test`` ones written with frames and synonyms the training wording never uses,
so retrieval and zero-shot labels can be measured on sentences a model never read.  The format a user writes for
their own audio; :func:`read_captions` checks one row by row.  dl4mir writes it for its datasets with
:func:`dl4mir.features.describe.caption_dataset` (``dl4mir data captions``).
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

from dl4mir.data.index import safe_path
from dl4mir.errors import DatasetError

WORDINGS = ("train", "test")
HEADER = ["file", "caption", "split"]
CSV_NAME = "captions.csv"


def write_captions(rows: list[dict], path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=HEADER)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)
    return path


def read_captions(path: str | os.PathLike, root: str | os.PathLike) -> dict[str, list[tuple[str, str]]]:
    """``{file: [(caption, split), …]}`` from a ``captions.csv`` describing the audio under ``root``.  A missing
    or misnamed column, an empty file or caption, an unknown split, a path outside ``root`` or a file that is not
    there is an error naming the CSV and its line."""
    path, root = Path(path), Path(root)
    if not path.is_file():
        raise DatasetError(f"{path}: captions CSV not found")
    out: dict[str, list[tuple[str, str]]] = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"file", "caption"} <= set(reader.fieldnames):
            raise DatasetError(f"{path}:1: header {reader.fieldnames} lacks file and caption; expected "
                               "file,caption[,split]")
        unknown = set(reader.fieldnames) - set(HEADER)
        if unknown:
            raise DatasetError(f"{path}:1: unknown column(s) {sorted(unknown)}; the columns are {', '.join(HEADER)}")
        for line_no, row in enumerate(reader, start=2):
            rel, caption = (row.get("file") or "").strip(), (row.get("caption") or "").strip()
            split = (row.get("split") or "train").strip()
            if not rel or not caption:
                raise DatasetError(f"{path}:{line_no}: every row needs a file and a caption, got {row}")
            if split not in WORDINGS:
                raise DatasetError(f"{path}:{line_no}: split {split!r} is not one of {', '.join(WORDINGS)}")
            try:
                audio = safe_path(root, rel)
            except DatasetError as exc:
                raise DatasetError(f"{path}:{line_no}: {exc}") from None
            if not audio.is_file():
                raise DatasetError(f"{path}:{line_no}: {rel} is not a file under {root}")
            out.setdefault(Path(rel).as_posix(), []).append((caption, split))
    if not out:
        raise DatasetError(f"{path}: no captions (only a header)")
    return out
