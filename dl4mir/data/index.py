"""Dataset indexes (mirdata's format), checksums and validation.

An index is ``{"version": str, "tracks": {clip_id: {"audio": [relpath, md5]}}}``.  Reading one is strict: JSON
errors name the line and column, duplicated keys and malformed entries are collected (not silently overwritten),
and every relative path is checked to stay inside the dataset root *before* anything is read — ``../``, absolute
paths and symlinks that point outside are rejected, lessons from mirdata's own issues.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dl4mir import audio
from dl4mir._progress import progress
from dl4mir.errors import AudioError, DatasetError, VideoError
from dl4mir.video import is_video, read_video

INDEX_FILE = "dl4mir_index.json"
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".aifc", ".au", ".caf", ".w64", ".rf64")
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")


def md5_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def safe_path(root: Path, relpath: str) -> Path:
    """``root / relpath``, refusing anything that could leave ``root`` (checked before any read)."""
    if not isinstance(relpath, str) or not relpath:
        raise DatasetError(f"index path {relpath!r} is not a non-empty string")
    if "\\" in relpath or "\x00" in relpath:
        raise DatasetError(f"index path {relpath!r} contains a backslash or NUL; use '/' separators")
    pure = PurePosixPath(relpath)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", relpath):
        raise DatasetError(f"index path {relpath!r} is absolute; index paths must be relative to the dataset root")
    if ".." in pure.parts:
        raise DatasetError(f"index path {relpath!r} contains '..' and could escape the dataset root")
    root_real = Path(root).resolve()
    full = root_real.joinpath(*pure.parts)
    real = full.resolve()
    if real != root_real and root_real not in real.parents:
        raise DatasetError(f"index path {relpath!r} resolves to {real}, outside the dataset root (symlink out?)")
    return full


def write_index(path: Path, tracks: dict[str, dict], *, version: str, stats: dict | None = None) -> None:
    """Write a mirdata-format index ``{clip_id: {"audio": [relpath, md5], ...}}`` atomically; ``stats``
    (``{relpath: [size, mtime_ns]}``) lets a later run notice changed files without checksumming them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    record = {"version": version, "tracks": tracks, **({"stats": stats} if stats is not None else {})}
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def file_stats(root: Path, files: dict[str, dict[str, str | None]]) -> dict[str, list[int]]:
    """``{relpath: [size, mtime_ns]}`` of every file named in ``files``: cheap, and changes when a file does."""
    out = {}
    for keys in files.values():
        for rel in filter(None, keys.values()):
            st = safe_path(root, rel).stat()
            out[rel] = [st.st_size, st.st_mtime_ns]
    return out


def stale(index: "Index", stats: dict[str, list[int]]) -> str:
    """What changed between the files an index was built from and ``stats`` now ("" if nothing)."""
    if index.stats is None:
        return "the index has no file sizes and times (built by an older dl4mir)"
    old, new = index.stats, stats
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    changed = sorted(r for r in set(old) & set(new) if list(old[r]) != list(new[r]))
    return "; ".join(f"{len(v)} {what} ({', '.join(v[:3])}{' …' if len(v) > 3 else ''})"
                     for what, v in (("added", added), ("removed", removed), ("changed", changed)) if v)


def build_index(root: Path, files: dict[str, dict[str, str | None]], *, version: str, path: Path,
                show_progress: bool | None = None, previous: "Index | None" = None) -> None:
    """Checksum the files ``{clip_id: {key: relpath or None}}`` and write the index to ``path``.

    Used for real datasets, whose official indexes live online only.  Files whose size and modification time
    match ``previous`` keep its checksum instead of being read again.
    """
    stats = file_stats(root, files)
    known = {}
    if previous is not None and previous.stats:
        known = {rel: md5 for rel, md5 in previous.checksums.items() if previous.stats.get(rel) == stats.get(rel)}
    tracks: dict[str, dict] = {}
    unreadable = []
    for clip_id, keys in progress(files.items(), total=len(files), desc="checksumming", enabled=show_progress):
        try:
            tracks[clip_id] = {k: [None, None] if rel is None else [rel, known.get(rel) or md5_file(safe_path(root, rel))]
                               for k, rel in keys.items()}
        except OSError as exc:
            unreadable.append(f"{keys.get('audio') or clip_id}: {exc.strerror}")
    if unreadable:  # the index leaves them out; say so (validate lists them too)
        shown = "\n  ".join(unreadable[:10]) + (f"\n  … and {len(unreadable) - 10} more" if len(unreadable) > 10 else "")
        print(f"note: {len(unreadable)} file(s) under {root} could not be read and are not indexed:\n  {shown}",
              file=sys.stderr, flush=True)
    write_index(path, tracks, version=version, stats=stats)


@dataclass
class Index:
    """A parsed index plus every problem found while parsing (so validation can report them all)."""

    path: Path
    version: str
    entries: dict[str, tuple[str, str | None]]  # clip_id -> (relpath, md5)
    duplicates: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    stats: dict | None = None  # {relpath: [size, mtime_ns]} when dl4mir built the index from the files
    checksums: dict = field(default_factory=dict)  # {relpath: md5} of every file the index names, annotations too
    extra: dict = field(default_factory=dict)  # {clip_id: {key: relpath or None}}: the files beside the audio


def read_index(path: str | os.PathLike) -> Index:
    """Parse an index strictly.  Raises :class:`DatasetError` for a missing or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: index file not found")
    duplicates: list[str] = []

    def pairs(items):
        seen = {}
        for k, v in items:
            if k in seen:
                duplicates.append(k)
            seen[k] = v
        return seen

    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: corrupt index, not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}:{exc.colno}: corrupt index, not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tracks"), dict):
        raise DatasetError(f"{path}: corrupt index, expected an object with a 'tracks' object")
    entries: dict[str, tuple[str, str | None]] = {}
    malformed: list[str] = []
    by_path: dict[str, str] = {}
    for clip_id, rec in data["tracks"].items():
        audio = rec.get("audio") if isinstance(rec, dict) else None
        if not (isinstance(audio, list) and len(audio) == 2 and isinstance(audio[0], str)):
            malformed.append(f"{clip_id}: 'audio' must be [relpath, md5], got {audio!r}")
            continue
        rel, md5 = audio
        if md5 is not None and not (isinstance(md5, str) and _MD5_RE.match(md5)):
            malformed.append(f"{clip_id}: checksum {md5!r} is not a 32-digit hex md5")
            continue
        if rel in by_path:
            duplicates.append(f"{clip_id} (same file as {by_path[rel]}: {rel})")
            continue
        by_path[rel] = clip_id
        entries[clip_id] = (rel, md5)
    checksums = {v[0]: v[1] for rec in data["tracks"].values() if isinstance(rec, dict) for v in rec.values()
                 if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str)}
    stats = data.get("stats") if isinstance(data.get("stats"), dict) else None
    extra = {clip_id: {k: v[0] for k, v in rec.items() if k != "audio" and isinstance(v, list) and len(v) == 2}
             for clip_id, rec in data["tracks"].items() if clip_id in entries}
    return Index(path, str(data.get("version", "")), entries, duplicates, malformed, stats, checksums, extra)


@dataclass
class ValidationReport:
    """Everything wrong with a dataset on disk, each entry naming the file and the cause."""

    root: Path
    n_checked: int = 0
    missing: list[str] = field(default_factory=list)
    checksum_mismatch: list[str] = field(default_factory=list)
    swapped: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    unindexed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)  # FIFOs, dangling or looping symlinks, links out of the root

    @property
    def ok(self) -> bool:
        return not any((self.missing, self.checksum_mismatch, self.swapped, self.unreadable, self.unindexed,
                        self.duplicates, self.malformed, self.unsafe, self.unusable))

    def lines(self) -> list[str]:
        out = [f"{self.root}: {self.n_checked} indexed files checked"]
        for title, items in (("missing", self.missing), ("checksum mismatch (changed or truncated)",
                             self.checksum_mismatch), ("unreadable or damaged audio", self.unreadable),
                             ("not in the index", self.unindexed), ("duplicated index entries", self.duplicates),
                             ("malformed index entries", self.malformed), ("unsafe index paths", self.unsafe),
                             ("audio-named entries that are not readable files", self.unusable)):
            if items:
                out.append(f"{len(items)} {title}:")
                out += [f"  {x}" for x in items]
        if self.swapped:
            out.append(f"{len(self.swapped)} swapped file pairs:")
            out += [f"  {a} <-> {b}" for a, b in self.swapped]
        out.append("OK: no problems found" if self.ok else "FAILED: see the problems above")
        return out

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "root"}
        return {"root": str(self.root), "ok": self.ok, **d}


def _unusable(root_real: Path, path: Path) -> str | None:
    """Why an audio-named entry cannot be read as a file of the dataset, or ``None`` if it can: a regular file,
    or a symlink that resolves to one inside the dataset's folder.  Nothing here opens the file (a FIFO would block)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "dangling symlink (its target does not exist)" if os.path.islink(path) else "vanished while listing"
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else f"cannot be examined ({exc.strerror})"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, device or socket)"
    if os.path.islink(path):
        real = Path(os.path.realpath(path))
        if real != root_real and root_real not in real.parents:
            return f"symlink to {real}, outside the dataset folder"
    return None


def _walk_audio(root: Path):
    """``(relpath, problem or None)`` for every audio-named entry under ``root`` (hidden ones skipped)."""
    root = Path(root)
    root_real = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):  # os.walk does not follow directory symlinks: no loops
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS):
                path = Path(dirpath, name)
                yield path.relative_to(root).as_posix(), _unusable(root_real, path)


def list_audio_files(root: Path) -> list[str]:
    """Every readable audio file under ``root`` as sorted posix relpaths (hidden files and folders skipped; see
    :func:`unusable_audio_files` for the entries left out)."""
    return sorted(rel for rel, problem in _walk_audio(root) if problem is None)


def unusable_audio_files(root: Path) -> list[str]:
    """``"relpath: why"`` for each audio-named entry that is not a readable regular file inside ``root``."""
    return sorted(f"{rel}: {problem}" for rel, problem in _walk_audio(root) if problem is not None)


def validate(root: Path, index: Index, *, check_audio: bool = True, show_progress: bool | None = None
             ) -> ValidationReport:
    """Compare the files under ``root`` with ``index``.

    Detects missing files, content changes (checksum), swapped files (A holds B's checksum and B holds A's),
    truncated or otherwise damaged audio (header checks of :func:`dl4mir.audio.info`), files present on disk
    but absent from the index, duplicated and malformed index entries, and index paths that escape ``root``.
    """
    root = Path(root)
    root_real = root.resolve()
    rep = ValidationReport(root, duplicates=list(index.duplicates), malformed=list(index.malformed))
    actual: dict[str, str] = {}
    expected_by_md5: dict[str, str] = {}
    expected_by_rel: dict[str, str] = {}
    indexed_paths = set()
    for clip_id, (rel, md5) in progress(index.entries.items(), total=len(index.entries), desc="validating",
                                        enabled=show_progress):
        try:
            path = safe_path(root, rel)
        except DatasetError as exc:
            rep.unsafe.append(f"{clip_id}: {exc}")
            continue
        indexed_paths.add(PurePosixPath(rel).as_posix())
        rep.n_checked += 1
        if not os.path.lexists(path):
            rep.missing.append(rel)
            continue
        problem = _unusable(root_real, path)
        if problem is not None:
            rep.unusable.append(f"{rel}: {problem}")
            continue
        if md5 is not None:
            expected_by_md5[md5] = rel
            expected_by_rel[rel] = md5
            try:
                actual[rel] = md5_file(path)
            except OSError as exc:
                rep.unreadable.append(f"{rel}: cannot read ({exc.strerror})")
                continue
            if actual[rel] != md5:
                rep.checksum_mismatch.append(rel)
        if check_audio:  # decode every sample: a cut FLAC has an intact header and fails only here
            try:
                audio.load(path, sr=None, mono=False, max_channels=64)
            except AudioError as exc:
                rep.unreadable.append(f"{rel}: {exc.cause}")
    beside_mismatch = []
    for clip_id, keys in index.extra.items():  # the files beside the audio: videos, annotations, ground truth
        for rel in keys.values():
            if rel is None or rel in actual or rel == index.entries[clip_id][0]:
                continue
            path = safe_path(root, rel)
            if not path.is_file():
                rep.missing.append(rel)
                continue
            md5 = index.checksums.get(rel)
            if md5 is not None and md5_file(path) != md5:
                beside_mismatch.append(rel)
            if check_audio and is_video(path):
                try:
                    read_video(path)
                except VideoError as exc:
                    rep.unreadable.append(f"{rel}: {exc.cause}")
    # two mismatching files that hold each other's expected content were swapped
    seen = set()
    for rel in rep.checksum_mismatch:
        other = expected_by_md5.get(actual[rel])
        if other and other != rel and other not in seen and actual.get(other) == expected_by_rel[rel]:
            rep.swapped.append((rel, other))
            seen.update((rel, other))
    rep.checksum_mismatch = [r for r in rep.checksum_mismatch if r not in seen] + beside_mismatch
    for rel, problem in sorted(_walk_audio(root)):  # one walk: files the index lacks, and unusable entries
        if rel in indexed_paths:
            continue
        if problem is None:
            rep.unindexed.append(rel)
        else:
            rep.unusable.append(f"{rel}: {problem}")
    return rep

