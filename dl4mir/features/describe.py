"""Captions for audio clips, from their labels and from facts measured in their audio (groundwork for the
audio–language lesson, issue 15).

Each clip of ``guitar-fx`` / EGFxSet, ``instruments`` / TinySOL and ``vowels`` is described in several phrasings
drawn from a grammar of sentence frames and synonyms: its effect and pickup, instrument and dynamics, or vowel and
speaker, and — measured — how bright it is (spectral centroid), how fast it decays and how loud it is, each said
only when the clip sits in the top or bottom quarter of its dataset.  The grammar has two wordings
(:data:`dl4mir.data.captions.WORDINGS`): ``test`` frames and synonyms share no phrase with the ``train`` ones.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from dl4mir.audio import BatchResult
from dl4mir.data.captions import WORDINGS
from dl4mir.data.dataset import dl4mir_home
from dl4mir.errors import DatasetError
from dl4mir.features import spectral as F

ANALYSIS_SR = 16000

# concept -> (train synonyms, test synonyms); no phrase is in both
_EFFECT = {
    "clean": (["clean", "dry", "unprocessed"], ["effect-free", "untreated"]),
    "blues driver": (["bluesy overdriven", "lightly driven"], ["blues-pedal crunchy"]),
    "tube screamer": (["tube-screamer overdriven", "mid-heavy overdriven"], ["green-pedal driven"]),
    "distortion": (["heavily distorted", "fuzzy distorted"], ["saturated, gritty"]),
    "chorus": (["chorused", "shimmering chorus"], ["doubled, detuned"]),
    "phaser": (["phased", "swooshing phaser"], ["phase-shifted"]),
    "flanger": (["flanged", "jet-like flanger"], ["comb-filtered, sweeping"]),
    "digital delay": (["digitally delayed", "clean-echo"], ["pristine repeating"]),
    "tape echo": (["tape-echoed", "warm tape-delay"], ["wobbly analog-echo"]),
    "sweep echo": (["sweep-echoed", "filtered-echo"], ["swept repeating"]),
    "plate reverb": (["plate-reverb", "bright reverberant"], ["metallic-ambience"]),
    "hall reverb": (["hall-reverb", "spacious"], ["concert-hall ambient"]),
    "spring reverb": (["spring-reverb", "twangy reverberant"], ["boingy-ambience"]),
}
_PICKUP = {
    "Bridge": (["bridge pickup", "bridge position"], ["pickup nearest the bridge"]),
    "Bridge-Middle": (["bridge and middle pickups", "in-between bridge position"], ["bridge-plus-middle selector"]),
    "Middle": (["middle pickup", "middle position"], ["center pickup"]),
    "Middle-Neck": (["middle and neck pickups", "in-between neck position"], ["neck-plus-middle selector"]),
    "Neck": (["neck pickup", "warm neck position"], ["pickup nearest the fretboard"]),
}
_REGISTER = {"low": (["low", "deep"], ["bass-range"]), "middle": (["mid-range", "middle-register"], ["medium-pitched"]),
             "high": (["high", "high-pitched"], ["treble-range"])}
_BRIGHT = {"dark": (["dark", "mellow"], ["muffled"]), "bright": (["bright", "sparkly"], ["brilliant"]), "": ([""], [""])}
_DECAY = {"short": (["short", "quickly decaying"], ["clipped"]), "long": (["ringing", "long-sustaining"],
                                                                        ["lingering"]), "": ([""], [""])}
_LOUD = {"soft": (["soft", "quiet"], ["gentle"]), "loud": (["loud", "strong"], ["forceful"]), "": ([""], [""])}
_INSTRUMENT = {  # TinySOL's names -> plain words
    "Bass Tuba": (["tuba", "bass tuba"], ["low brass tuba"]),
    "French Horn": (["french horn", "horn"], ["cor"]),
    "Trombone": (["trombone", "slide trombone"], ["tenor trombone"]),
    "Trumpet in C": (["trumpet", "c trumpet"], ["cornet-like trumpet"]),
    "Accordion": (["accordion", "squeezebox"], ["free-reed accordion"]),
    "Contrabass": (["double bass", "contrabass"], ["upright bass"]),
    "Viola": (["viola", "alto viola"], ["bowed viola"]),
    "Violin": (["violin", "fiddle"], ["bowed violin"]),
    "Violoncello": (["cello", "violoncello"], ["bowed cello"]),
    "Bassoon": (["bassoon", "fagotto"], ["double-reed bassoon"]),
    "Clarinet in Bb": (["clarinet", "b-flat clarinet"], ["single-reed clarinet"]),
    "Flute": (["flute", "concert flute"], ["transverse flute"]),
    "Oboe": (["oboe", "hautbois"], ["double-reed oboe"]),
    "Alto Saxophone": (["alto sax", "alto saxophone"], ["saxophone"]),
}
_DYNAMICS = {"pp": (["very soft", "pianissimo"], ["whispered"]), "p": (["soft", "piano"], ["hushed"]),
             "mf": (["moderately loud", "mezzo-forte"], ["medium-loud"]), "f": (["loud", "forte"], ["powerful"]),
             "ff": (["very loud", "fortissimo"], ["blaring"])}
_VOWEL = {
    "a": (["an 'ah' vowel", "the vowel a"], ["a wide-open 'ah' sound"]),
    "e": (["an 'eh' vowel", "the vowel e"], ["an 'ae' sound"]),
    "i": (["an 'ee' vowel", "the vowel i"], ["a close 'iy' sound"]),
    "o": (["an 'oh' vowel", "the vowel o"], ["a rounded 'ow' sound"]),
    "u": (["an 'oo' vowel", "the vowel u"], ["a close rounded 'uw' sound"]),
    "aa": (["a long 'aa' vowel", "the vowel aa"], ["a back open 'ɑ' sound"]),
}
_SEX = {"m": (["male", "man's"], ["low-voiced male"]), "f": (["female", "woman's"], ["high-voiced female"]),
        "c": (["child's", "young"], ["child"])}

# sentence frames per layout and wording; {slots} are filled from the concepts above; a [bracketed part] is left
# out when a slot in it has nothing to say (a note neither bright nor dark)
FRAMES = {
    "egfxset": (["a [{bright}] [{register}] {effect} guitar note on the {pickup}",
                 "{effect} electric guitar, {pickup}[, a {decay} note]",
                 "a [{loud}] {effect} note played on the {pickup} of an electric guitar"],
                ["single {register} pluck through a {effect} signal chain, {pickup} selected[, {bright} tone]",
                 "recording of one [{decay}] guitar tone: {effect}, {pickup}"]),
    "tinysol": (["a {dynamics} {register} note on the {instrument}",
                 "{instrument} playing a [{bright}] {register} tone, {dynamics}"],
                ["one sustained {instrument} pitch, {register}, {dynamics}",
                 "solo {instrument} sample[, {bright}], {dynamics}"]),
    "vowels": (["a {sex} voice singing {vowel}", "{vowel} spoken by a {sex} speaker after a consonant"],
               ["syllable with {vowel}, {sex} talker", "recorded {sex} speech: {vowel}"]),
}


@dataclass(frozen=True)
class AudioFacts:
    centroid_hz: float  # energy-weighted mean spectral centroid
    decay_s: float  # from the loudest frame until 20 dB below it (the clip's length if it never gets there)
    rms_db: float  # level of the loudest 10 % of frames, dB re full scale


def measure(y: np.ndarray, sr: int) -> AudioFacts:
    """The audio facts a caption states, from a mono waveform."""
    y = np.asarray(y, dtype=np.float32)
    S, _ = F.spectrogram(y=y, n_fft=1024, hop_length=256)
    energy = (S ** 2).sum(axis=0)
    centroid = F.spectral_centroid(S=S, sr=sr, n_fft=1024, hop_length=256)[0]
    weights = energy / max(float(energy.sum()), 1e-20)
    level = 20 * np.log10(np.maximum(F.rms(S=S, frame_length=1024)[0], 1e-6))
    peak = int(np.argmax(level))
    below = np.flatnonzero(level[peak:] < level[peak] - 20.0)
    decay_frames = int(below[0]) if len(below) else len(level) - peak
    loudest = np.sort(level)[-max(1, len(level) // 10):]
    return AudioFacts(float((centroid * weights).sum()), decay_frames * 256 / sr, float(loudest.mean()))


def _relative(value: float, values: np.ndarray, low: str, high: str) -> str:
    """``low`` below the collection's 25th percentile, ``high`` above its 75th, else nothing to say."""
    lo, hi = np.percentile(values, [25, 75])
    return low if value < lo else high if value > hi else ""


def _register(midi: float, layout: str) -> str:
    lo, hi = (52, 64) if layout == "egfxset" else (55, 72)
    return "low" if midi < lo else "high" if midi > hi else "middle"


def slots(labels: dict, facts: AudioFacts, layout: str, population: dict[str, np.ndarray]) -> dict[str, tuple]:
    """Concept -> (train synonyms, test synonyms) for one clip."""
    bright = _relative(facts.centroid_hz, population["centroid_hz"], "dark", "bright")
    out = {"bright": _BRIGHT[bright], "decay": _DECAY[_relative(facts.decay_s, population["decay_s"], "short", "long")],
           "loud": _LOUD[_relative(facts.rms_db, population["rms_db"], "soft", "loud")]}
    if layout == "egfxset":
        out.update(effect=_EFFECT[labels["effect"]], pickup=_PICKUP[labels["pickup"]],
                   register=_REGISTER[_register(labels["midi"], layout)])
    elif layout == "tinysol":
        out.update(instrument=_INSTRUMENT.get(labels["instrument"], ([labels["instrument"].lower()],) * 2),
                   dynamics=_DYNAMICS.get(labels.get("dynamics"), (["moderately loud"], ["medium-loud"])),
                   register=_REGISTER[_register(labels["midi"], layout)])
    elif layout == "vowels":
        out.update(vowel=_VOWEL[labels["vowel"]], sex=_SEX[labels["sex"]])
    else:
        raise DatasetError(f"no caption grammar for the {layout!r} layout; captions.csv can be written by hand")
    return out


# the concept dictionaries behind each slot name of the frames
_CONCEPTS = {"effect": _EFFECT, "pickup": _PICKUP, "register": _REGISTER, "bright": _BRIGHT, "decay": _DECAY,
             "loud": _LOUD, "instrument": _INSTRUMENT, "dynamics": _DYNAMICS, "vowel": _VOWEL, "sex": _SEX}


def attributes(caption: str, layout: str) -> dict[str, str]:
    """What a caption says, read back with the layout's grammar (both wordings): ``{slot: value}`` for every slot
    it names, e.g. ``{"effect": "tape echo", "pickup": "Bridge", "register": "low"}``.

    Phrases are matched as whole words (a hyphen joins words), longest first and each stretch of text once, so
    "bright reverberant" is the plate reverb, not brightness, and "mellow" does not say "low"."""
    rest, found = caption.lower(), {}
    for pattern, slot, value in _phrases(layout):
        if slot in found:
            continue
        m = pattern.search(rest)
        if m:
            found[slot] = value
            rest = rest[:m.start()] + "#" * (m.end() - m.start()) + rest[m.end():]
    return found


@lru_cache(maxsize=None)
def _phrases(layout: str) -> list[tuple[re.Pattern, str, str]]:
    """Every phrase of the layout's slots (both wordings) as a whole-word pattern with its slot and value, longest
    first."""
    slots = {k for frames in FRAMES[layout] for f in frames for k in re.findall(r"{(\w+)}", f)}
    phrases = sorted(((phrase, slot, value) for slot in slots for value, wordings in _CONCEPTS[slot].items() if value
                      for wording in wordings for phrase in wording if phrase), key=lambda t: -len(t[0]))
    return [(re.compile(rf"(?<![\w'-]){re.escape(phrase)}(?![\w'-])"), slot, value) for phrase, slot, value in phrases]


def attribute_truth(labels: dict, layout: str) -> dict[str, str]:
    """The values a correct caption of a clip would name for its labelled slots (not the measured ones)."""
    if layout == "egfxset":
        return {"effect": labels["effect"], "pickup": labels["pickup"], "register": _register(labels["midi"], layout)}
    if layout == "tinysol":
        return {"instrument": labels["instrument"], "register": _register(labels["midi"], layout)}
    if layout == "vowels":
        return {"vowel": labels["vowel"], "sex": labels["sex"]}
    raise DatasetError(f"no caption grammar for the {layout!r} layout")


def _tidy(text: str) -> str:
    """Spaces and commas left by empty slots tidied, and "a" before a vowel made "an"."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,:])", r"\1", text)
    text = re.sub(r"([,:])(?:\s*[,:])+", r"\1", text).strip(" ,")
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)


def compose(concepts: dict[str, tuple], layout: str, wording: str, rng: np.random.Generator) -> str:
    """One caption in ``wording`` (``train`` or ``test``): a frame and a synonym per slot, drawn from ``rng``."""
    w = WORDINGS.index(wording)
    frame = FRAMES[layout][w][int(rng.integers(len(FRAMES[layout][w])))]
    words = {k: v[w][int(rng.integers(len(v[w])))] for k, v in concepts.items()}
    frame = re.sub(r"\[([^\]]*)\]", lambda m: "" if any(not words[k] for k in re.findall(r"{(\w+)}", m.group(1)))
                   else m.group(1), frame)
    return _tidy(frame.format(**words))


def caption_dataset(ds, *, per_clip: int = 3, seed: int = 0) -> tuple[list[dict], BatchResult]:
    """``per_clip`` captions of each wording for every clip of ``ds``: rows ``{file, caption, split}`` and the
    files that could not be read (listed, never dropped silently)."""
    result, facts, clips = BatchResult(), {}, {c.clip_id: c for c in ds.clips}
    for path, y, sr in result.each_loaded([c.path for c in ds.clips], sr=ANALYSIS_SR):
        facts[path] = measure(y, sr)
    population = {k: np.array([getattr(f, k) for f in facts.values()]) for k in ("centroid_hz", "decay_s", "rms_db")}
    rng = np.random.default_rng(seed)
    rows = []
    for clip in clips.values():
        if os.fspath(clip.path) not in facts:
            continue
        concepts = slots(clip.labels, facts[os.fspath(clip.path)], ds.reader.name, population)
        rel = Path(clip.path).relative_to(ds.root).as_posix()
        for wording in WORDINGS:
            made = set()
            for _ in range(per_clip * 4):  # a few draws more than needed, for distinct sentences
                made.add(compose(concepts, ds.reader.name, wording, rng))
                if len(made) == per_clip:
                    break
            rows += [{"file": rel, "caption": c, "split": wording} for c in sorted(made)]
    return rows, result


def _grammar_key() -> str:
    return hashlib.sha1(repr((FRAMES, _CONCEPTS)).encode()).hexdigest()[:12]


def cached_captions(ds, *, per_clip: int = 3, seed: int = 0) -> tuple[list[dict], BatchResult]:
    """:func:`caption_dataset`, kept under ``dl4mir_home()/captions/cache`` by everything it depends on (the
    dataset's files, their sizes and times, ``per_clip``, ``seed`` and the grammar itself), so a changed file or
    setting is described afresh, never answered from an old description."""
    key = hashlib.sha1(repr((ds.files_key(), per_clip, seed, _grammar_key())).encode()).hexdigest()[:16]
    path = dl4mir_home() / "captions" / "cache" / f"{key}.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        return saved["rows"], BatchResult(failures=[tuple(f) for f in saved["failures"]])
    rows, result = caption_dataset(ds, per_clip=per_clip, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rows": rows, "failures": result.failures}))
    os.replace(tmp, path)
    return rows, result


def default_path(ds) -> Path:
    """Where a dataset's generated captions go: next to its audio for dl4mir's synthetic data; for a real dataset,
    whose folder dl4mir never writes, under ``dl4mir_home()/captions/``."""
    if ds.root.resolve().is_relative_to(dl4mir_home().resolve() / "synth"):
        return ds.root / "captions.csv"
    return dl4mir_home() / "captions" / re.sub(r"[^A-Za-z0-9.-]+", "-", str(ds.root.resolve())).strip("-") / "captions.csv"
