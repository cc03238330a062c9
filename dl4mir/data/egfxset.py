"""EGFxSet: the real dataset's layout and metadata, and the reader that serves it and ``guitar-fx`` alike.

Layout (Pedroza, Meza & Roman 2022): ``<EffectFolder>/<Pickup>/<string>-<fret>.wav`` plus ``egfxset_metadata.csv``
whose header names carry trailing spaces (``"Effect "``, ``"Setting "``).  String 1 is the high E (MIDI 64) and
string 6 the low E (MIDI 40); frets 0–22.  The official index lives online only, so the reader builds its index
from the folder tree; checksums are added by :func:`dl4mir.data.index.build_index`.
"""
from __future__ import annotations

import ast
import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from dl4mir.errors import DatasetError, ParameterError

OPEN_STRING_MIDI = {1: 64, 2: 59, 3: 55, 4: 50, 5: 45, 6: 40}
FRETS = tuple(range(23))
PICKUPS = ("Bridge", "Bridge-Middle", "Middle", "Middle-Neck", "Neck")
METADATA_FILE = "egfxset_metadata.csv"
METADATA_HEADER = ["Effect ", "Model", "Effect Type", "Knob Names", "Knob Type", "Setting "]


@dataclass(frozen=True)
class Effect:
    folder: str
    name: str  # the "Effect " column of the metadata CSV
    model: str
    effect_type: str
    knob_names: tuple
    knob_types: tuple
    setting: tuple


# The real metadata, one row per effect (Clean has no row in the CSV; mirdata labels it "clean").
EFFECTS = (
    Effect("Clean", "clean", "None", "clean", (), (), ()),
    Effect("BluesDriver", "blues driver", "Boss  BD-2 Blues Driver", "distortion",
           ("level", "tone", "gain"), ("volume", "eq", "effect amount"), (0.5, 0.5, 1.0)),
    Effect("TubeScreamer", "tube screamer", "Ibanez Mini Tube Screamer", "distortion",
           ("tone", "overdrive", "level"), ("eq", "effect amount", "volume"), (0.5, 1.0, 0.5)),
    Effect("RAT", "distortion", "Pro Co Sound RAT2 Distortion", "distortion",
           ("distortion", "filter", "volume"), ("effect amount", "eq", "volume"), (1.0, 0.5, 1.0)),
    Effect("Chorus", "chorus", "Boss CE-3 Chorus", "modulation",
           ("rate", "depth", "stereo mode"), ("rate", "effect amount", "selector"), ("120 bpm", 1.0, False)),
    Effect("Phaser", "phaser", "MXR Phase 45", "modulation", ("speed",), ("rate",), ("120 bpm",)),
    Effect("Flanger", "flanger", "Mooer E-Lady ", "modulation",
           ("color", "type", "range", "rate"), ("eq", "selector", "effect amount", "rate"),
           (0.5, "normal", 1.0, "120 bpm")),
    Effect("Digital-Delay", "digital delay", "Line 6 DL4 Delay", "delay",
           ("effect selector", "delay time", "repeats", "tweak (bass)", "tweez (treble)", "mix"),
           ("selector", "rate", "effect decay", "eq", "eq", "effect amount"),
           ("digital delay", "120 bpm", 0.6, 0.5, 0.5, 0.5)),
    Effect("TapeEcho", "tape echo", "Line 6 DL4 Delay", "delay",
           ("effect selector", "delay time", "repeats", "tweak (bass)", "tweez (treble)", "mix"),
           ("selector", "rate", "effect decay", "eq", "eq", "effect amount"),
           ("tape echo", "120 bpm", 0.6, 0.5, 0.5, 0.5)),
    Effect("Sweep-Echo", "sweep echo", "Line 6 DL4 Delay", "delay",
           ("effect selector", "delay time", "repeats", "tweak (sweep speed)", "tweez (sweep depth)", "mix"),
           ("selector", "rate", "effect decay", "rate", "effect amount", "effect amount"),
           ("sweep echo", "120 bpm", 0.6, "120 bpm", 1.0, 0.5)),
    Effect("Plate-Reverb", "plate reverb", "Orange CR-60 Combo Amplifier", "reverb",
           ("volume", "bass", "treble", "type", "reverb", "master volume", "clean"),
           ("volume", "eq", "eq", "selector", "effect amount", "volume", "selector"),
           (0.5, 0.5, 0.5, "plate", 1.0, 0.2, True)),
    Effect("Hall-Reverb", "hall reverb", "Orange CR-60 Combo Amplifier", "reverb",
           ("volume", "bass", "treble", "type", "reverb", "master volume", "clean"),
           ("volume", "eq", "eq", "selector", "effect amount", "volume", "selector"),
           (0.5, 0.5, 0.5, "hall", 1.0, 0.2, True)),
    Effect("Spring-Reverb", "spring reverb", "Orange CR-60 Combo Amplifier", "reverb",
           ("volume", "bass", "treble", "type", "reverb", "master volume", "clean"),
           ("volume", "eq", "eq", "selector", "effect amount", "volume", "selector"),
           (0.5, 0.5, 0.5, "spring", 1.0, 0.2, True)),
)
EFFECT_BY_FOLDER = {e.folder: e for e in EFFECTS}
EFFECT_TYPES = tuple(dict.fromkeys(e.effect_type for e in EFFECTS))  # clean, distortion, modulation, delay, reverb


def effect_type_of(label: str) -> str | None:
    """An effect type from a label that names one (``"delay"``), an EGFxSet effect (``"tape echo"``) or its
    folder (``"TapeEcho"``), in any case; ``None`` for anything else."""
    key = str(label).strip().lower()
    if key in EFFECT_TYPES:
        return key
    return next((e.effect_type for e in EFFECTS if key in (e.name.lower(), e.folder.lower())), None)
_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FILE_RE = re.compile(r"^(?P<string>[1-6])-(?P<fret>\d{1,2})\.wav$", re.IGNORECASE)


def midi_to_note_name(midi: int) -> str:
    """``64 -> "E4"`` (scientific pitch notation, sharps)."""
    return f"{_NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def midi_to_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def write_metadata_csv(path: Path) -> None:
    """Write ``egfxset_metadata.csv`` in the real file's format (header spaces and Python-literal cells)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(METADATA_HEADER)
        for e in EFFECTS[1:]:
            w.writerow([e.name, e.model, e.effect_type, repr(list(e.knob_names)), repr(list(e.knob_types)),
                        repr(list(e.setting))])


def read_metadata_csv(path: Path) -> dict[str, dict]:
    """Parse the metadata CSV into ``{effect name: row}``; header names are stripped of their stray spaces.

    Raises :class:`DatasetError` naming the file and line of any malformed row.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: EGFxSet metadata CSV not found (expected next to the effect folders)")
    rows: dict[str, dict] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DatasetError(f"{path}: empty metadata CSV") from None
        want = [h.strip() for h in METADATA_HEADER]
        if header[: len(want)] != want:
            raise DatasetError(f"{path}:1: unexpected header {header}; expected {want}")
        for line_no, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < len(want):
                raise DatasetError(f"{path}:{line_no}: {len(row)} columns, expected {len(want)}")
            rec = dict(zip(want, (c.strip() for c in row)))
            for key in ("Knob Names", "Knob Type", "Setting"):
                try:
                    rec[key] = list(ast.literal_eval(rec[key]))
                except (ValueError, SyntaxError):
                    raise DatasetError(f"{path}:{line_no}: column {key!r} is not a list literal: {rec[key]!r}") from None
            rows[rec["Effect"].lower()] = rec
    return rows


def parse_relpath(relpath: str) -> dict:
    """Labels from a path ``<EffectFolder>/<Pickup>/<string>-<fret>.wav``; raises ``ValueError`` if it is not one."""
    parts = relpath.split("/")
    if len(parts) != 3:
        raise ParameterError(f"expected <EffectFolder>/<Pickup>/<string>-<fret>.wav, got {relpath!r}")
    folder, pickup, name = parts
    m = _FILE_RE.match(name)
    if folder not in EFFECT_BY_FOLDER:
        raise ParameterError(f"unknown effect folder {folder!r} (known: {', '.join(EFFECT_BY_FOLDER)})")
    if pickup not in PICKUPS:
        raise ParameterError(f"unknown pickup folder {pickup!r} (known: {', '.join(PICKUPS)})")
    if not m or int(m["fret"]) > 22:
        raise ParameterError(f"file name {name!r} is not <string 1-6>-<fret 0-22>.wav")
    string, fret = int(m["string"]), int(m["fret"])
    midi = OPEN_STRING_MIDI[string] + fret
    return {"folder": folder, "pickup": pickup, "string": string, "fret": fret, "midi": midi}


def clip_labels(relpath: str, metadata: dict[str, dict]) -> tuple[dict, dict]:
    """(labels, groups) for one file, with what mirdata's EGFxSet track exposes."""
    p = parse_relpath(relpath)
    eff = EFFECT_BY_FOLDER[p["folder"]]
    row = metadata.get(eff.name)
    if eff.folder != "Clean" and row is None:
        raise DatasetError(f"effect {eff.name!r} (folder {eff.folder}) has no row in {METADATA_FILE}")
    labels = {
        "effect": eff.name,
        "effect_folder": eff.folder,
        "effect_type": eff.effect_type,
        "model": row["Model"] if row else "None",
        "knob_names": row["Knob Names"] if row else [],
        "knob_types": row["Knob Type"] if row else [],
        "setting": row["Setting"] if row else [],
        "pickup": p["pickup"],
        "string": p["string"],
        "fret": p["fret"],
        "stringfret_tuple": [p["string"], p["fret"]],
        "midi": p["midi"],
        "note_name": midi_to_note_name(p["midi"]),
        "f0_hz": midi_to_hz(p["midi"]),
        "mirdata_track_id": mirdata_track_id(relpath),
    }
    groups = {"string": str(p["string"]), "pickup": p["pickup"], "note": f"{p['string']}-{p['fret']}"}
    return labels, groups


def mirdata_track_id(relpath: str) -> str:
    """mirdata's EGFxSet track id of a file: ``TapeEcho/Bridge/2-0.wav`` → ``TapeEcho_Bridge/2-0``."""
    folder, pickup, name = relpath.split("/")
    return f"{folder}_{pickup}/{name.rsplit('.', 1)[0]}"


def mirdata_attributes(clip) -> dict:
    """What mirdata's EGFxSet ``Track`` exposes for ``clip``, value for value (a test checks this against mirdata's
    own loader).  dl4mir's labels differ on purpose in three places: clip ids are the file's path
    (``TapeEcho/Bridge/2-0``, mirdata: ``TapeEcho_Bridge/2-0``, kept as the ``mirdata_track_id`` label); a clean
    clip's ``effect_type`` is ``"clean"`` and its knob lists are empty (mirdata: the string ``"None"``); CSV cells are
    stripped of stray spaces (mirdata keeps ``"Mooer E-Lady "``)."""
    labels = clip.labels
    row = None if labels["effect_folder"] == "Clean" else _raw_rows(Path(clip.path).parents[2] / METADATA_FILE).get(
        labels["effect"])
    out = {"track_id": labels["mirdata_track_id"], "stringfret_tuple": [labels["string"], labels["fret"]],
           "pickup_configuration": labels["pickup"], "midi": labels["midi"], "note_name": labels["note_name"]}
    if row is None:
        return {**out, "effect": "clean", "model": "None", "effect_type": "None", "knob_names": "None",
                "knob_type": "None", "setting": "None"}
    return {**out, "effect": row["Effect "], "model": row["Model"], "effect_type": row["Effect Type"],
            "knob_names": ast.literal_eval(row["Knob Names"]), "knob_type": ast.literal_eval(row["Knob Type"]),
            "setting": ast.literal_eval(row["Setting "])}


@functools.lru_cache(maxsize=8)
def _raw_rows(path: Path) -> dict[str, dict]:
    """The metadata CSV's rows as written (stray spaces included: mirdata's values), by effect name."""
    read_metadata_csv(path)  # the same checks, and errors, as the dataset's reader
    with open(path, newline="", encoding="utf-8-sig") as f:
        return {row["Effect "].strip().lower(): row for row in csv.DictReader(f)
                if any((v or "").strip() for v in row.values() if isinstance(v, str))}
