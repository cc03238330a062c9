"""The dataset model: ``Clip`` records and ``Dataset`` objects built by one reader per on-disk layout.

A reader knows one layout (EGFxSet, TinySOL, GTZAN, dl4mir's vowels) and turns an index into clips with labels and
group keys.  Synthetic and real data of the same layout share the reader, so what works on ``guitar-fx`` works on
EGFxSet.  TinySOL and GTZAN go through mirdata's own loaders, given an index built locally from the files (mirdata
1.0 would download it).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from dl4mir.audio import load
from dl4mir.data import egfxset
from dl4mir.data.captions import CSV_NAME, read_captions
from dl4mir.data.egfxset import clip_labels, midi_to_hz, read_metadata_csv
from dl4mir.data.index import (INDEX_FILE, Index, build_index, file_stats, list_audio_files, read_index, safe_path,
                               stale, unusable_audio_files, validate)
from dl4mir.data.splits import SplitPlan
from dl4mir.data.synth import av_scenes as av_synth
from dl4mir.data.synth import vowels as vowels_synth
from dl4mir.data.synth.instruments import INSTRUMENTS
from dl4mir.errors import DatasetError
from dl4mir.video import is_video


@dataclass(frozen=True)
class Clip:
    """One audio file and what is known about it.

    ``labels`` are targets (effect, pitch, vowel, …); ``groups`` are the keys that must not be split across train
    and test (guitar string, pickup, speaker, …).
    """

    clip_id: str
    path: Path
    labels: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    groups: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    dataset: str = ""

    def load(self, *, sr: int | None = None, mono: bool = True, **kwargs):
        """``(y, sr)`` through :func:`dl4mir.audio.load` (same checks, same errors)."""
        return load(self.path, sr=sr, mono=mono, **kwargs)


def dl4mir_home() -> Path:
    """Where generated data and built indexes live: ``$DL4MIR_HOME`` or ``~/.cache/dl4mir``."""
    return Path(os.environ.get("DL4MIR_HOME") or Path.home() / ".cache" / "dl4mir")


def _bad_files_error(root: Path, bad: list[str], what: str) -> DatasetError:
    shown = "\n  ".join(bad[:10]) + (f"\n  … and {len(bad) - 10} more" if len(bad) > 10 else "")
    return DatasetError(f"{root}: {len(bad)} file(s) {what}:\n  {shown}")


class Reader:
    """One on-disk layout.  Subclasses implement :meth:`files` and :meth:`clips`."""

    name = ""
    summary_labels: tuple[str, ...] = ()
    group_keys: tuple[str, ...] = ()

    def files(self, root: Path) -> dict[str, dict[str, str | None]]:
        """``{clip_id: {"audio": relpath, ...}}`` found on disk, for building an index."""
        raise NotImplementedError

    def clips(self, root: Path, index: Index) -> list[Clip]:
        raise NotImplementedError

    def official_split(self, clip: Clip) -> str | None:
        return None

    def split_convention(self, dataset) -> dict:
        """:func:`dl4mir.data.splits.make_split` options for the split this layout conventionally uses, plus an
        optional ``"note"`` saying what the user should know about it."""
        return {"group_key": None, "test_groups": None, "stratify": None}

    def fixed_split(self, dataset, *, seed: int):
        """A :class:`~dl4mir.data.splits.SplitPlan` when the layout's convention is a fixed train/validation/test
        assignment rather than held-out groups and folds; ``None`` otherwise."""
        return None


class EGFxSetReader(Reader):
    """EGFxSet's layout (real, or ``guitar-fx``)."""

    name = "egfxset"
    summary_labels = ("effect", "effect_type", "pickup", "string")
    group_keys = ("string", "pickup", "note")

    def split_convention(self, dataset):
        return {"group_key": "string", "test_groups": ("5",), "stratify": "effect"}  # the course holds out string 5

    def files(self, root):
        return {rel.rsplit(".", 1)[0]: {"audio": rel} for rel in list_audio_files(root)}

    def clips(self, root, index):
        metadata = read_metadata_csv(Path(root) / egfxset.METADATA_FILE)
        out, bad = [], []
        for clip_id, (rel, _) in index.entries.items():
            try:
                labels, groups = clip_labels(rel, metadata)
            except ValueError as exc:
                bad.append(f"{rel}: {exc}")
                continue
            out.append(Clip(clip_id, safe_path(root, rel), labels, groups, self.name))
        if bad:
            raise _bad_files_error(root, bad, "do not follow EGFxSet's <EffectFolder>/<Pickup>/<string>-<fret>.wav")
        return out


class MirdataReader(Reader):
    """Base for layouts read through a mirdata loader with a locally built index."""

    module = ""

    def mirdata_dataset(self, root: Path, index: Index):
        import importlib
        import json

        mod = importlib.import_module(f"mirdata.datasets.{self.module}")
        ds = mod.Dataset(data_home=str(root))
        # mirdata 1.0 fetches indexes from the network; hand it ours (its cached_property reads __dict__ first).
        ds.__dict__["_index"] = json.loads(index.path.read_text(encoding="utf-8"))
        return ds


class TinySOLReader(MirdataReader):
    """TinySOL's layout (real, or ``instruments``): ``audio/…/ordinario/*.wav`` + ``annotation/TinySOL_metadata.csv``."""

    name = "tinysol"
    module = "tinysol"
    summary_labels = ("instrument", "family", "dynamics")
    group_keys = ("fold", "instrument", "pitch")

    def files(self, root):
        rels = [r for r in list_audio_files(root) if r.startswith("audio/")]
        return {Path(r).stem: {"audio": r} for r in rels}

    def clips(self, root, index):
        ds = self.mirdata_dataset(root, index)
        meta_path = Path(root) / "annotation" / "TinySOL_metadata.csv"
        if not meta_path.is_file():
            raise DatasetError(f"{meta_path}: TinySOL metadata CSV not found")
        try:
            _ = ds._metadata
        except (ValueError, IndexError) as exc:
            raise DatasetError(f"{meta_path}: malformed TinySOL metadata ({exc})") from None
        out, bad = [], []
        for clip_id, (rel, _) in index.entries.items():
            t = ds.track(clip_id)
            if t.instrument_full is None:
                bad.append(rel)
                continue
            labels = {
                "family": t.family, "instrument": t.instrument_full, "instrument_abbr": t.instrument_abbr,
                "technique": t.technique_full, "pitch": t.pitch, "midi": t.pitch_id, "f0_hz": midi_to_hz(t.pitch_id),
                "dynamics": t.dynamics, "dynamics_id": t.dynamics_id, "string_id": t.string_id,
                "instance_id": t.instance_id, "fold": t.split,
            }
            groups = {"fold": str(t.split), "instrument": t.instrument_abbr, "pitch": str(t.pitch_id)}
            out.append(Clip(clip_id, safe_path(root, rel), labels, groups, self.name))
        if bad:
            raise _bad_files_error(root, bad, f"have no row in {meta_path.name}")
        return out

    def official_split(self, clip):
        return f"fold{clip.labels['fold']}"

    def split_convention(self, dataset):
        return {"group_key": "fold", "test_groups": None, "stratify": "instrument", "official": True}


class GTZANReader(MirdataReader):
    """GTZAN's layout: ``gtzan_genre/genres/<genre>/<genre>.000NN.wav`` (+ optional tempo/beat annotations)."""

    name = "gtzan"
    module = "gtzan_genre"
    summary_labels = ("genre",)
    group_keys = ("genre",)

    def files(self, root):
        out = {}
        for rel in list_audio_files(root):
            parts = rel.split("/")
            if len(parts) < 3 or parts[-3] != "genres":
                continue
            clip_id = parts[-1].rsplit(".", 1)[0]
            genre, _, num = clip_id.partition(".")
            ann = {}
            for key, sub, ext in (("beats", "beats", "beats"), ("tempo", "tempo", "bpm")):
                rel_ann = f"gtzan_tempo_beat-main/{sub}/gtzan_{genre}_{num}.{ext}"
                ann[key] = rel_ann if (Path(root) / rel_ann).is_file() else None
            out[clip_id] = {"audio": rel, **ann}
        return out

    # The field's convention: the fault-filtered split (Kereliuk, Sturm & Larsen 2015), which keeps each artist in
    # one split and leaves out repeated, distorted and mislabelled excerpts.  Its lists (lines like
    # ``blues/blues.00012.wav``) are put in the dataset's folder by the user; dl4mir ships no copy.
    SPLIT_FILES = {"train": "train_filtered.txt", "val": "valid_filtered.txt", "test": "test_filtered.txt"}

    def clips(self, root, index):
        ds = self.mirdata_dataset(root, index)
        split = self.filtered_split(root)
        out = []
        for clip_id, (rel, _) in index.entries.items():
            t = ds.track(clip_id)
            labels = {"genre": t.genre, "tempo_bpm": _read_bpm(t.tempo_path) if t.tempo_path else None,
                      "meter": _read_meter(t.beats_path) if t.beats_path else None}
            groups = {"genre": t.genre}
            if split is not None:  # excerpts the filtered split leaves out are kept, marked "excluded"
                groups["filtered_split"] = split.get("/".join(Path(rel).parts[-2:]), "excluded")
            out.append(Clip(clip_id, safe_path(root, rel), labels, groups, self.name))
        return out

    def split_convention(self, dataset):
        if not dataset.index_is_built_here:  # a synthetic set (rhythms) has no artists to keep apart
            return {"group_key": None, "test_groups": None, "stratify": "genre"}
        return {"group_key": None, "test_groups": None, "stratify": "genre",
                "note": "random stratified split: GTZAN's fault-filtered split was not found (put train_filtered.txt, "
                        f"valid_filtered.txt and test_filtered.txt in {dataset.root}); a random split puts excerpts "
                        "of one artist on both sides and overestimates accuracy"}

    def fixed_split(self, dataset, *, seed):
        """The fault-filtered split, when its lists are in the dataset's folder."""
        assigned = {c.clip_id: c.groups.get("filtered_split") for c in dataset.clips}
        if all(v is None for v in assigned.values()):
            return None
        by = {name: sorted(i for i, v in assigned.items() if v == name) for name in ("train", "val", "test", "excluded")}
        return SplitPlan("fault-filtered", "filtered_split", "genre", seed, by["test"],
                         [{"train": by["train"], "val": by["val"]}], ["test"],
                         note=(f"GTZAN's fault-filtered split (Kereliuk, Sturm & Larsen 2015): {len(by['train'])} "
                               f"train, {len(by['val'])} validation, {len(by['test'])} test, {len(by['excluded'])} "
                               "excerpts left out (repeated, distorted or mislabelled)"))

    def filtered_split(self, root) -> dict[str, str] | None:
        """``{"<genre>/<file>.wav": "train" | "val" | "test"}`` from the fault-filtered split's lists in ``root``;
        ``None`` if none of them is there."""
        paths = {name: Path(root) / f for name, f in self.SPLIT_FILES.items()}
        if not any(p.is_file() for p in paths.values()):
            return None
        missing = [p.name for p in paths.values() if not p.is_file()]
        if missing:
            raise DatasetError(f"{root}: the fault-filtered split needs all three lists; missing {', '.join(missing)}")
        out = {}
        for name, p in paths.items():
            for line in p.read_text(encoding="utf-8").split():
                out["/".join(Path(line).parts[-2:])] = name
        return out


def _read_bpm(path: str) -> float:
    # mirdata's gtzan load_tempo calls float() on a 2-D array, which NumPy 2 refuses; read the one number here.
    try:
        return float(Path(path).read_text().split()[0])
    except (OSError, IndexError, ValueError) as exc:
        raise DatasetError(f"{path}: not a tempo file with one BPM value ({exc})") from None


def _read_meter(path: str) -> int | None:
    """Beats per bar from a GTZAN ``.beats`` file (``time position`` per line): the largest position, or ``None``
    when the file gives times only."""
    try:
        beats = np.loadtxt(path, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a beat file with a time (and bar position) per line ({exc})") from None
    if beats.size == 0:
        raise DatasetError(f"{path}: empty beat file")
    return int(beats[:, 1].max()) if beats.shape[1] > 1 else None


def metadata_rows(path: Path, header: list[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a dl4mir layout's metadata CSV as ``(line number, {column: cell})``; a missing file, another
    header or a row with another number of cells is an error naming the file and line."""
    if not path.is_file():
        raise DatasetError(f"{path}: {what} metadata CSV not found")
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        found = next(reader, None)
        if found != header:
            raise DatasetError(f"{path}:1: header {found} is not {header}")
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise DatasetError(f"{path}:{line_no}: {len(row)} columns, expected {len(header)}")
            rows.append((line_no, dict(zip(header, row))))
    return rows


class _FlatLayout(Reader):
    """A layout whose clip ids are its audio files' paths without the extension."""

    def files(self, root):
        return {rel.rsplit(".", 1)[0]: {"audio": rel} for rel in list_audio_files(root)}


class VowelsReader(_FlatLayout):
    """dl4mir's vowel layout: ``<speaker>/<consonant><vowel>_<take>.wav`` + ``vowels_metadata.csv``."""

    name = "vowels"
    summary_labels = ("vowel", "consonant", "sex")
    group_keys = ("speaker",)

    def split_convention(self, dataset):
        return {"group_key": "speaker", "test_groups": None, "stratify": "vowel"}

    def clips(self, root, index):
        meta_path = Path(root) / vowels_synth.METADATA_FILE
        rows = {r["path"]: r for _, r in metadata_rows(meta_path, vowels_synth.METADATA_HEADER, "vowels")}
        out, bad = [], []
        for clip_id, (rel, _) in index.entries.items():
            r = rows.get(rel)
            if r is None:
                bad.append(rel)
                continue
            try:
                labels = {"vowel": r["vowel"], "consonant": r["consonant"], "sex": r["sex"], "take": int(r["take"]),
                          "f0_hz": float(r["f0_hz"]), "vowel_onset_s": float(r["vowel_onset_s"])}
            except ValueError as exc:
                raise DatasetError(f"{meta_path}: row for {rel}: {exc}") from None
            out.append(Clip(clip_id, safe_path(root, rel), labels, {"speaker": r["speaker"]}, self.name))
        if bad:
            raise _bad_files_error(root, bad, f"have no row in {vowels_synth.METADATA_FILE}")
        return out


class FolderReader(Reader):
    """Any folder of audio (``folder:PATH``).  Labels come from ``labels.csv`` in the folder when it is there
    (columns ``file,label`` and optionally ``group``; ``file`` relative to the folder), otherwise from the first
    folder level, as torchvision's ImageFolder does: ``PATH/<label>/…/<file>.wav``.  A ``group`` (a recording
    session, a player, an album) keeps its clips on one side of every split.  Audio without a label (files at the
    top level, or not in the CSV) is kept with ``label = None``: fine for unsupervised models, refused by the
    ``label`` task, which names those files."""

    name = "folder"
    summary_labels = ("label",)
    group_keys = ("group",)
    CSV = "labels.csv"

    def files(self, root):
        return {rel.rsplit(".", 1)[0]: {"audio": rel} for rel in list_audio_files(root)}

    def read_csv(self, root: Path) -> dict[str, tuple[str, str | None]] | None:
        """``{relpath: (label, group or None)}`` from ``labels.csv``, or ``None`` without one."""
        path = Path(root) / self.CSV
        if not path.is_file():
            return None
        rows = {}
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"file", "label"} - set(reader.fieldnames or ())
            if missing:
                raise DatasetError(f"{path}:1: header {reader.fieldnames} lacks {sorted(missing)}; expected "
                                   "file,label[,group], e.g. a row `guitar/take1.wav,chorus,session3`")
            for line_no, row in enumerate(reader, start=2):
                rel, label = (row.get("file") or "").strip(), (row.get("label") or "").strip()
                if not rel or not label:
                    raise DatasetError(f"{path}:{line_no}: every row needs a file and a label, got {row}")
                rel = Path(rel).as_posix()
                safe_path(Path(root), rel)  # refuses absolute paths and ../ escapes
                if rel in rows:
                    raise DatasetError(f"{path}:{line_no}: {rel} is listed twice")
                rows[rel] = (label, (row.get("group") or "").strip() or None)
        return rows

    def split_convention(self, dataset):
        if all("group" in c.groups for c in dataset.clips):
            return {"group_key": "group", "test_groups": None, "stratify": "label"}
        return {"group_key": None, "test_groups": None, "stratify": "label",
                "note": "random split by clip: clips of one recording or player may sit on both sides; a group "
                        "column in labels.csv keeps them together"}

    def clips(self, root, index):
        table = self.read_csv(root)
        out = []
        for clip_id, (rel, _) in index.entries.items():
            if table is not None:
                label, group = table.get(rel, (None, None))
            else:
                parts = rel.split("/")
                label, group = (parts[0] if len(parts) > 1 else None), None
            out.append(Clip(clip_id, safe_path(root, rel), {"label": label}, {"group": group} if group else {},
                            self.name))
        if table is not None:
            absent = sorted(set(table) - {rel for rel, _ in index.entries.values()})
            if absent:
                raise _bad_files_error(root, absent, f"named in {self.CSV} are not audio files in the folder")
        return out


SYNTH_PRESETS_METADATA = "synth_presets_metadata.csv"
SYNTH_PRESETS_HEADER = ["path", "synth", "patch", "midi", "f0_hz", "note_s", "gain_db", "params_unit"]


class SynthPresetsReader(_FlatLayout):
    """dl4mir's synth-presets layout: ``<synth>/<patch>_<midi>.wav`` + ``synth_presets_metadata.csv`` (one row per
    note: its synth, patch, pitch, and the patch's parameters in [0, 1]) + ``patches/<synth>/<patch>.json``."""

    name = "synth-presets"
    summary_labels = ("synth", "midi")
    group_keys = ("patch",)

    def split_convention(self, dataset):
        return {"group_key": "patch", "test_groups": None, "stratify": "synth",
                "note": "patches are held out whole: a test patch is never heard at another pitch in training"}

    def clips(self, root, index):
        meta_path = Path(root) / SYNTH_PRESETS_METADATA
        rows = {}
        for line_no, r in metadata_rows(meta_path, SYNTH_PRESETS_HEADER, "synth-presets"):
            try:
                unit = [float(v) for v in r["params_unit"].split()]
                labels = {"synth": r["synth"], "midi": int(r["midi"]), "f0_hz": float(r["f0_hz"]),
                          "note_s": float(r["note_s"]), "gain_db": float(r["gain_db"]), "params_unit": unit}
            except ValueError as exc:
                raise DatasetError(f"{meta_path}:{line_no}: {exc}") from None
            if not unit or not all(0.0 <= u <= 1.0 for u in unit):
                raise DatasetError(f"{meta_path}:{line_no}: params_unit must be numbers in [0, 1]")
            rows[r["path"]] = (labels, r["patch"])
        out, bad = [], []
        for clip_id, (rel, _) in index.entries.items():
            if rel not in rows:
                bad.append(rel)
                continue
            labels, patch = rows[rel]
            out.append(Clip(clip_id, safe_path(root, rel), labels, {"patch": patch}, self.name))
        if bad:
            raise _bad_files_error(root, bad, f"have no row in {SYNTH_PRESETS_METADATA}")
        return out


class CaptionsReader(_FlatLayout):
    """Any folder of audio described by a ``captions.csv`` (``captions:PATH``; :mod:`dl4mir.data.captions`): each
    clip's labels are its training-wording captions (``captions``) and its held-out ones (``test_captions``).  An
    audio file the CSV does not describe is an error that names it."""

    name = "captions"

    def split_convention(self, dataset):
        return {"group_key": None, "test_groups": None, "stratify": None,
                "note": "random split by clip: clips of one recording may sit on both sides"}

    def clips(self, root, index):
        table = read_captions(Path(root) / CSV_NAME, root)
        out, bad = [], []
        for clip_id, (rel, _) in index.entries.items():
            if rel not in table:
                bad.append(rel)
                continue
            labels = {key: [c for c, split in table[rel] if split == wording]
                      for key, wording in (("captions", "train"), ("test_captions", "test"))}
            out.append(Clip(clip_id, safe_path(root, rel), labels, {}, self.name))
        if bad:
            raise _bad_files_error(root, bad, f"have no caption in {CSV_NAME}")
        return out


class MusicReader(Reader):
    """MUSIC-style folders of videos (``music:PATH``, or ``av-scenes``): ``<category>/<id>.mp4`` where the category
    is an instrument (a solo) or ``A+B`` (a duet).  The audio is a ``.wav`` beside the video when there is one
    (``av-scenes``), else the video's own sound track; ``<id>.npz`` beside it holds ground truth when known
    (sources, masks, boxes), and ``annotations.json`` at the top what each scene holds."""

    name = "music"
    summary_labels = ("category", "scene")
    group_keys = ("category",)

    def files(self, root):
        out = {}
        for path in sorted(Path(root).glob("*/*")):
            if not is_video(path) or path.name.startswith("."):
                continue
            rel = path.relative_to(root).as_posix()
            stem = rel.rsplit(".", 1)[0]
            wav, truth = f"{stem}.wav", f"{stem}.npz"
            out[stem] = {"audio": wav if (Path(root) / wav).is_file() else rel, "video": rel,
                         "truth": truth if (Path(root) / truth).is_file() else None}
        return out

    def split_convention(self, dataset):  # by the first player: a duet category may hold one clip only
        return {"group_key": None, "test_groups": None, "stratify": "lead"}

    def clips(self, root, index):
        ann_path = Path(root) / av_synth.ANNOTATIONS
        table = {}
        if ann_path.is_file():
            try:
                table = json.loads(ann_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise DatasetError(f"{ann_path}: unreadable annotations ({exc})") from None
        by_folder = {i.folder: i.abbr for i in INSTRUMENTS}
        out = []
        for clip_id, (rel, _) in index.entries.items():
            category = clip_id.split("/")[0]
            ann = table.get(clip_id, {})
            named = [by_folder.get(part, part) for part in category.split("+")]
            scene = ann.get("scene", "solo" if len(named) == 1 else "duet")
            labels = {"category": category, "players": named, "lead": named[0], "scene": scene,
                      "instruments": ann.get("instruments", named), "playing": ann.get("playing"),
                      "distractor": ann.get("distractor"),
                      "video": safe_path(root, index.extra[clip_id]["video"]),
                      "truth": (safe_path(root, index.extra[clip_id]["truth"])
                                if index.extra[clip_id].get("truth") else None)}
            out.append(Clip(clip_id, safe_path(root, rel), labels, {"category": category}, self.name))
        return out


READERS = {"egfxset": EGFxSetReader, "tinysol": TinySOLReader, "gtzan": GTZANReader, "vowels": VowelsReader,
           "synth-presets": SynthPresetsReader, "folder": FolderReader, "captions": CaptionsReader,
           "music": MusicReader}
# what each layout looks like, for help texts and for the error when a folder does not match
LAYOUTS = {
    "egfxset": "EGFxSet folder: <EffectFolder>/<Pickup>/<string>-<fret>.wav + egfxset_metadata.csv, "
               "e.g. PATH/Chorus/Bridge/5-0.wav",
    "tinysol": "TinySOL folder: audio/<Family>/<Instrument>/ordinario/*.wav + annotation/TinySOL_metadata.csv, "
               "e.g. PATH/audio/Strings/Violin/ordinario/Vn-ord-A4-mf-1c-N.wav",
    "gtzan": "GTZAN folder (mirdata layout): gtzan_genre/genres/<genre>/<genre>.000NN.wav, "
             "e.g. PATH/gtzan_genre/genres/blues/blues.00000.wav",
    "vowels": "a folder in dl4mir's vowels layout: <speaker>/<consonant><vowel>_<take>.wav + vowels_metadata.csv",
    "synth-presets": "a folder in dl4mir's synth-presets layout: <synth>/<patch>_<midi>.wav + "
                     "synth_presets_metadata.csv + patches/<synth>/<patch>.json",
    "folder": "any audio folder: <label>/…/<file>.wav (label = first folder, e.g. PATH/chorus/take1.wav), or any "
              "tree with labels.csv (file,label[,group])",
    "music": "MUSIC-style videos: <instrument>/<id>.mp4 (a solo) or <A>+<B>/<id>.mp4 (a duet), the sound in the "
             "video or in <id>.wav beside it, e.g. PATH/Violin/solo0001.mp4",
    "captions": "any audio folder with captions.csv (file,caption[,split]; split = train or test wording), "
                "e.g. a row `takes/riff1.wav,a bright chorused riff on the neck pickup,train`",
}


class Dataset:
    """A dataset on disk: its root, the reader for its layout, and its checksum index.

    The index is ``<root>/dl4mir_index.json`` when present (synthetic data ship one); otherwise it is built from
    the files on first use and kept under ``dl4mir_home()/indexes`` so a real dataset's folder is never written.
    """

    def __init__(self, name: str, root: str | os.PathLike, reader: Reader, *, show_progress: bool | None = None):
        self.name = name
        self.root = Path(root)
        self.reader = reader
        self.show_progress = show_progress
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: dataset folder not found (for {name!r})")

    def __repr__(self):
        return f"Dataset({self.name!r}, root={str(self.root)!r}, layout={self.reader.name!r})"

    @property
    def index_path(self) -> Path:
        local = self.root / INDEX_FILE
        if local.is_file():
            return local
        key = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:10]
        return dl4mir_home() / "indexes" / f"{self.reader.name}-{key}.json"

    @property
    def has_index(self) -> bool:
        return self.index_path.is_file()

    def files_key(self) -> str:
        """A digest of every clip's path, size and modification time: what a cache of anything computed from the
        clips (captions, search embeddings) is keyed by, so changed audio is never answered from old results."""
        stamp = []
        for c in self.clips:
            st = os.stat(c.path)
            stamp.append((Path(c.path).relative_to(self.root).as_posix(), st.st_size, st.st_mtime_ns))
        return hashlib.sha1(repr((str(self.root.resolve()), self.reader.name, sorted(stamp))).encode()).hexdigest()

    @property
    def index_is_built_here(self) -> bool:
        """True when dl4mir built the index from the folder's files (a real dataset), so it follows the files."""
        return self.index_path.parent == dl4mir_home() / "indexes"

    def build_index(self, previous: Index | None = None) -> Path:
        """Checksum every file of this layout under the root and store the index (replacing any old one);
        files unchanged since ``previous`` keep their checksums."""
        files = self.reader.files(self.root)
        skipped = unusable_audio_files(self.root)
        if skipped:  # FIFOs, dangling or looping symlinks, links out of the folder: named, never opened
            print(f"note: {len(skipped)} audio-named entr{'y' if len(skipped) == 1 else 'ies'} under {self.root} "
                  "cannot be read and are left out:\n  " + "\n  ".join(skipped[:10]), file=sys.stderr, flush=True)
        if not files:
            raise DatasetError(f"{self.root}: no audio files of the {self.reader.name} layout found; expected "
                               f"{LAYOUTS[self.reader.name]}")
        path = self.index_path
        build_index(self.root, files, version=f"{self.reader.name}-local", path=path, show_progress=self.show_progress,
                    previous=previous)
        self.__dict__.pop("index", None)
        self.__dict__.pop("clips", None)
        return path

    @cached_property
    def index(self) -> Index:
        if not self.has_index:
            self.build_index()
        idx = read_index(self.index_path)
        if self.index_is_built_here:  # files added, removed or replaced since: the user decides, knowing what
            changes = self.changes(idx)
            if changes:
                spec = f"{self.reader.name}:{self.root}"
                raise DatasetError(f"{self.root} changed since it was indexed: {changes}. Run `dl4mir data index "
                                   f"{spec}` to re-index it (`dl4mir data validate {spec}` shows what differs)")
        return idx

    def changes(self, index: Index | None = None) -> str:
        """What was added, removed or changed (size, modification time) since the folder was indexed; "" if
        nothing or if the index ships with the data (then `validate` checks it)."""
        if not self.has_index or not self.index_is_built_here:
            return ""
        return stale(index or read_index(self.index_path), file_stats(self.root, self.reader.files(self.root)))

    def refresh_index(self) -> Path:
        """Re-index the folder, reading again only the files whose size or modification time changed."""
        previous = read_index(self.index_path) if self.has_index else None
        return self.build_index(previous=previous)

    @cached_property
    def clips(self) -> list[Clip]:
        idx = self.index
        problems = idx.duplicates + idx.malformed
        if problems:
            raise DatasetError(f"{idx.path}: index has {len(problems)} bad entries (run `dl4mir data validate`): "
                               + "; ".join(problems[:5]))
        return self.reader.clips(self.root, idx)

    def validate(self, *, check_audio: bool = True):
        # against the index as it was built, even when the folder changed since: that is what validation reports
        index = read_index(self.index_path) if self.has_index else self.index
        return validate(self.root, index, check_audio=check_audio, show_progress=self.show_progress)

    def info(self) -> dict:
        clips = self.clips
        counts = {k: dict(sorted(Counter(str(c.labels.get(k)) for c in clips).items())) for k in self.reader.summary_labels}
        groups = {k: len({c.groups.get(k) for c in clips} - {None}) for k in self.reader.group_keys}
        return {"name": self.name, "layout": self.reader.name, "root": str(self.root), "index": str(self.index_path),
                "n_clips": len(clips), "label_counts": counts, "n_groups": groups}
