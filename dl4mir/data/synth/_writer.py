"""What every synthetic dataset shares: render tasks in parallel, write WAVs atomically, index them, mark done.

A dataset folder is *complete* only once ``dl4mir_synth.json`` (its config) is written, last; an interrupted run
leaves no marker and the next call renders again (every task is deterministic from the seed).
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, ClassVar, Iterable, Sequence

import numpy as np

from dl4mir._progress import progress
from dl4mir.audio import safe_peak, save
from dl4mir.data.index import INDEX_FILE, md5_file, write_index
from dl4mir.errors import ConfigError

SYNTH_MARKER = "dl4mir_synth.json"
# Bump whenever any generator's output changes, so cached datasets made by older code are not reused.
SYNTH_VERSION = 3


class SynthConfig:
    """Mixin for the generators' frozen dataclass configs: named profiles and a content fingerprint."""

    PROFILES: ClassVar[dict[str, dict]] = {}  # profile name -> overrides of the defaults

    @classmethod
    def profile(cls, name: str):
        """``quick`` (tests), ``default`` (the course at 16 kHz) or ``full`` (the real dataset's size)."""
        if name not in cls.PROFILES:
            raise ConfigError(f"unknown profile {name!r}; use {', '.join(cls.PROFILES)}")
        return replace(cls(), **cls.PROFILES[name])

    def fingerprint(self) -> str:
        payload = {"synth_version": SYNTH_VERSION, **asdict(self)}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]


def is_complete(root: Path, config) -> bool:
    marker = root / SYNTH_MARKER
    if not marker.is_file():
        return False
    try:
        saved = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return saved.get("synth_version") == SYNTH_VERSION and saved.get("config") == json.loads(json.dumps(asdict(config)))



def _one_thread_per_worker() -> None:
    """One process per core renders: a generator that uses torch (synth-presets) must not also start a thread per
    core in each worker (2 workers × 2 threads ran 3× slower on 2 cores).  The parent's threads are untouched."""
    torch = sys.modules.get("torch")  # only where the parent had imported it (fork), so no worker imports torch
    if torch is not None:
        torch.set_num_threads(1)


def _write_task(args) -> list[tuple[str, str, object]]:
    render, root, task, sr, subtype = args

    out = []
    for relpath, y, *meta in render(task):
        path = save(Path(root) / relpath, safe_peak(np.asarray(y)), sr=sr, subtype=subtype)
        out.append((relpath, md5_file(path), meta[0] if meta else None))
    return out


def write_dataset(
    root: Path,
    *,
    name: str,
    config,
    tasks: Sequence,
    render: Callable[[object], Iterable[tuple]],
    sample_rate: int,
    subtype: str,
    extra_files: Callable[[Path, dict], None] | None = None,
    annotations: Callable[[str], dict[str, str]] | None = None,
    clip_id: Callable[[str], str] = lambda rel: rel.rsplit(".", 1)[0],
    workers: int | None = None,
    show_progress: bool | None = None,
    start_method: str | None = None,
) -> Path:
    """Render ``tasks`` with the picklable ``render(task) -> [(relpath, waveform[, meta]), ...]`` into ``root``.

    Writes the files, then ``extra_files(root, {relpath: meta})`` (metadata CSVs, annotation files), the checksum
    index and finally the marker.  ``annotations(audio relpath) -> {key: relpath}`` names per-clip files that
    ``extra_files`` wrote; they enter the index beside the audio (mirdata's ``{"tempo": [relpath, md5]}``).
    ``start_method``: how worker processes start (default fork); a generator that encodes video asks for
    ``"forkserver"``, since a process forked after FFmpeg started its threads can deadlock on their locks.
    """

    root = Path(root)
    if is_complete(root, config):
        return root
    if root.exists():
        shutil.rmtree(root)  # a partial folder from an interrupted run: start clean so no stale file survives
    root.mkdir(parents=True)
    workers = workers or min(len(tasks), os.cpu_count() or 1)
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if start_method and main_file and not os.path.isfile(main_file):
        workers = 1  # a script read from stdin: a fresh worker process could not import it, so render here
    jobs = [(render, str(root), t, sample_rate, subtype) for t in tasks]
    files: dict[str, str] = {}
    metas: dict[str, object] = {}

    def collect(results):
        for res in progress(results, total=len(jobs), desc=f"making {name}", enabled=show_progress):
            for rel, md5, meta in res:
                files[rel] = md5
                metas[rel] = meta

    if workers <= 1:
        collect(map(_write_task, jobs))
    else:
        context = multiprocessing.get_context(start_method) if start_method else None
        with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread_per_worker, mp_context=context) as pool:
            collect(pool.map(_write_task, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    if extra_files is not None:
        extra_files(root, metas)
    tracks = {}
    for rel, md5 in sorted(files.items()):
        extra = annotations(rel) if annotations else {}
        tracks[clip_id(rel)] = {"audio": [rel, md5], **{key: [ann, md5_file(root / ann)] for key, ann in extra.items()}}
    if len(tracks) != len(files):
        raise AssertionError(f"{name}: two files share a clip id")  # a generator bug, never user input
    write_index(root / INDEX_FILE, tracks, version=f"{name}-synthetic")
    marker = {"dataset": name, "synth_version": SYNTH_VERSION, "config": asdict(config), "n_files": len(files)}
    tmp = root / (SYNTH_MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, indent=2))
    os.replace(tmp, root / SYNTH_MARKER)
    return root
