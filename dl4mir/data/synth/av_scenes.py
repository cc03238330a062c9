"""``av-scenes``: short videos of instruments playing, with every source's sound and where it is, in a MUSIC-like
layout (Zhao et al. 2018 trained Sound of Pixels on MUSIC's YouTube solos and duets).

Layout::

    <category>/<id>.mp4      the video (H.264, frames × frame_size², fps), silent
    <category>/<id>.wav      the mixture, exactly the sum of the sources (float WAV)
    <category>/<id>.npz      ground truth: ``sources`` (S, n) float32 (a silent object's row is zeros),
                             ``masks`` (T, S, H, W) bool (bit-packed), ``boxes`` (T, S, 4) x0 y0 x1 y1, ``playing`` (S,)
    annotations.json         per clip: category, instruments, playing, scene, distractor

``category`` is an instrument folder of ``instruments`` (``Violin``) for a solo and ``A+B`` for a duet.  A real
MUSIC-style folder (``<instrument>/<id>.mp4`` with the sound in the video) is read by the same reader.

What a scene is made of, and why:

* **Players.**  Each visible instrument is a sprite whose *identity* is its shape (a violin-family figure-eight, a
  flute's bar, a trumpet's bell …), colour and texture, each varied per clip (hue, size, texture scale and phase) so
  identity is never one pixel colour.  Its sound is a melody of 2–4 notes with rests, synthesized by the
  ``instruments`` generator; every source is brought to the same loudness (−20 dBFS RMS ± 3 dB, shared by all
  instruments), so no instrument is recognizable by level.
* **Motion with sound.**  A playing sprite jitters in proportion to its frame-wise amplitude envelope (a bowed
  instrument's bow slides with it, a wind instrument swells with its breath): still during rests, moving while it
  sounds, as players do.
* **Workers.**  Scenes are rendered in worker processes started by a fork server (a process forked after FFmpeg
  ran in it was seen to deadlock), so a script that makes the dataset must keep its top-level code under
  ``if __name__ == "__main__":`` (the ``dl4mir`` command, lessons and notebooks need nothing).
* **Distractors.**  Some scenes add a silent instrument (half of them the *same* instrument as a player, so only
  motion tells them apart), and some of those move: half of the moving ones drift across the frame, the other
  half *mime* — they jitter, bow or breathe with the envelope of a melody that is not in the mixture, exactly as a
  player moves — so that where things move does not say where the sound is; only the sound can.
"""
from __future__ import annotations

import colorsys
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from dl4mir.data.synth._writer import SynthConfig, write_dataset
from dl4mir.data.synth.instruments import INSTRUMENT_BY_ABBR, INSTRUMENTS, synthesize_note
from dl4mir.errors import ConfigError, DatasetError
from dl4mir.video import write_video

ANNOTATIONS = "annotations.json"
TARGET_RMS_DB = -20.0
MIX_PEAK = 0.9


@dataclass(frozen=True)
class Look:
    """An instrument's appearance: primitives in the sprite's unit square ([-1, 1]², y down), a hue, a texture."""

    shapes: tuple  # ("ellipse", cx, cy, rx, ry) | ("rect", x0, y0, x1, y1) | ("ring", cx, cy, r_out, r_in)
    hue: float
    saturation: float
    value: float
    texture: str  # stripes-h | stripes-v | dots | checker | rings | plain
    size_px: int


_FIGURE8 = (("ellipse", 0, 0.38, 0.62, 0.5), ("ellipse", 0, -0.32, 0.5, 0.42), ("rect", -0.08, -1, 0.08, -0.6))
LOOKS = {
    "Vn": Look(_FIGURE8, 0.07, 0.75, 0.75, "stripes-h", 30),
    "Va": Look(_FIGURE8, 0.00, 0.70, 0.65, "dots", 36),
    "Vc": Look(_FIGURE8, 0.12, 0.80, 0.55, "stripes-v", 46),
    "Fl": Look((("rect", -1, -0.12, 1, 0.12), ("ellipse", -0.6, 0, 0.12, 0.2)), 0.58, 0.15, 0.9, "plain", 40),
    "ClBb": Look((("rect", -0.14, -1, 0.14, 0.6), ("ellipse", 0, 0.75, 0.35, 0.28)), 0.72, 0.35, 0.3, "checker", 38),
    "Ob": Look((("rect", -0.1, -1, 0.1, 0.75), ("ellipse", 0, 0.82, 0.2, 0.18)), 0.33, 0.6, 0.55, "dots", 36),
    "TpC": Look((("rect", -1, -0.15, 0.4, 0.15), ("ellipse", 0.65, 0, 0.35, 0.55)), 0.14, 0.85, 0.9, "plain", 40),
    "BTb": Look((("ring", 0, 0.1, 0.85, 0.45), ("rect", -0.15, -1, 0.15, -0.5)), 0.11, 0.7, 0.6, "rings", 48),
}


@dataclass(frozen=True)
class AvScenesConfig(SynthConfig):
    sample_rate: int = 11025  # Sound of Pixels' rate
    duration_s: float = 3.0
    fps: int = 8
    frame_size: int = 112
    instruments: tuple[str, ...] = tuple(i.abbr for i in INSTRUMENTS)
    solos_per_instrument: int = 24
    duets: int = 32
    distractor_rate: float = 0.4  # scenes with a silent instrument in view
    moving_distractor_rate: float = 0.5  # of those, the share whose distractor moves
    miming_rate: float = 0.5  # of the moving ones, the share that mime a melody nobody hears (the rest drift)
    seed: int = 0

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"solos_per_instrument": 5, "duets": 12},
        "default": {},
        "full": {"solos_per_instrument": 150, "duets": 400},
    }

    def __post_init__(self):
        problems = [f"unknown instrument {a!r}" for a in self.instruments if a not in INSTRUMENT_BY_ABBR]
        if len(self.instruments) < 2:
            problems.append("at least two instruments are needed for duets")
        if self.frame_size % 16 or not 48 <= self.frame_size <= 512:
            problems.append(f"frame_size {self.frame_size} must be a multiple of 16 in 48..512")
        if not 1 <= self.fps <= 30:
            problems.append(f"fps {self.fps} is outside 1..30")
        if not 1.0 <= self.duration_s <= 20:
            problems.append(f"duration_s {self.duration_s} is outside 1..20 s")
        if self.solos_per_instrument < 1 or self.duets < 0:
            problems.append("solos_per_instrument must be >= 1 and duets >= 0")
        if not all(0 <= r <= 1 for r in (self.distractor_rate, self.moving_distractor_rate, self.miming_rate)):
            problems.append("distractor rates must be in [0, 1]")
        if problems:
            raise ConfigError("av-scenes config: " + "; ".join(problems))

    @property
    def n_frames(self) -> int:
        return int(round(self.duration_s * self.fps))

    @property
    def n_samples(self) -> int:
        return int(round(self.duration_s * self.sample_rate))

    def tasks(self) -> list[tuple[str, int]]:
        return ([("solo", i) for i in range(self.solos_per_instrument * len(self.instruments))]
                + [("duet", i) for i in range(self.duets)])


def category_of(instruments) -> str:
    """``Violin`` for a solo, ``Violin+Flute`` for a duet (in the instruments' order, whoever stands left)."""
    order = [i.abbr for i in INSTRUMENTS]
    return "+".join(INSTRUMENT_BY_ABBR[a].folder for a in sorted(instruments, key=order.index))


# -- sound --------------------------------------------------------------------------------------------------------

def melody(abbr: str, cfg: AvScenesConfig, rng: np.random.Generator) -> np.ndarray:
    """2–4 notes with rests between them, in the middle of the instrument's range, at one loudness."""
    inst = INSTRUMENT_BY_ABBR[abbr]
    sr, n = cfg.sample_rate, cfg.n_samples
    y = np.zeros(n)
    n_notes = int(rng.integers(2, 5))
    slot = cfg.duration_s / n_notes
    lo, hi = inst.low_midi + 5, max(inst.low_midi + 6, inst.high_midi - 7)
    for k in range(n_notes):
        note_s = slot * rng.uniform(0.45, 0.85)
        start = int((k * slot + rng.uniform(0, slot - note_s)) * sr)
        note = synthesize_note(inst, int(rng.integers(lo, hi + 1)), str(rng.choice(["pp", "mf", "ff"])), sr=sr,
                               duration_s=max(note_s, 0.3), rng=rng)
        note = note[:n - start]
        y[start:start + len(note)] += note
    gain_db = TARGET_RMS_DB + rng.uniform(-3, 3)
    return y * (10 ** (gain_db / 20) / max(np.sqrt(np.mean(y ** 2)), 1e-9))


def frame_envelope(y: np.ndarray, n_frames: int) -> np.ndarray:
    """Each video frame's RMS over its stretch of audio, scaled so the loudest frame is 1."""
    hop = len(y) // n_frames
    rms = np.sqrt(np.mean(y[:hop * n_frames].reshape(n_frames, hop) ** 2, axis=1))
    return rms / max(rms.max(), 1e-12)


# -- sight --------------------------------------------------------------------------------------------------------

def _rgb(h, s, v) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, np.clip(s, 0, 1), np.clip(v, 0, 1)))


def sprite(abbr: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha (s, s) bool, colour (s, s, 3) float in [0, 1])`` of one clip's instance of an instrument."""
    look = LOOKS[abbr]
    s = int(round(look.size_px * rng.uniform(0.9, 1.1))) // 2 * 2
    v, u = np.mgrid[-1:1:s * 1j, -1:1:s * 1j]
    alpha = np.zeros((s, s), bool)
    for kind, *p in look.shapes:
        if kind == "ellipse":
            alpha |= ((u - p[0]) / p[2]) ** 2 + ((v - p[1]) / p[3]) ** 2 <= 1
        elif kind == "rect":
            alpha |= (u >= p[0]) & (u <= p[2]) & (v >= p[1]) & (v <= p[3])
        else:  # ring
            r = np.hypot(u - p[0], v - p[1])
            alpha |= (r <= p[2]) & (r >= p[3])
    freq, phase = rng.uniform(2.5, 4.0), rng.uniform(0, 2 * np.pi)
    pattern = {"stripes-h": np.sin(freq * np.pi * v + phase), "stripes-v": np.sin(freq * np.pi * u + phase),
               "dots": np.sin(freq * np.pi * u + phase) * np.sin(freq * np.pi * v + phase),
               "checker": np.sign(np.sin(freq * np.pi * u + phase) * np.sin(freq * np.pi * v)),
               "rings": np.sin(2 * freq * np.pi * np.hypot(u, v) + phase),
               "plain": -0.5 * v}[look.texture]
    base = _rgb(look.hue + rng.uniform(-0.03, 0.03), look.saturation + rng.uniform(-0.1, 0.1),
                look.value + rng.uniform(-0.1, 0.1))
    shade = np.clip(0.75 + 0.25 * pattern, 0, 1)[..., None]
    return alpha, np.clip(base * shade + 0.15 * (1 - shade), 0, 1)


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth two-colour gradient with mild grain: a stage, never one flat colour."""
    a, b = _rgb(rng.uniform(), rng.uniform(0, 0.3), rng.uniform(0.2, 0.5)), _rgb(rng.uniform(), rng.uniform(0, 0.3),
                                                                                rng.uniform(0.3, 0.6))
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:1:size * 1j, 0:1:size * 1j]
    w = np.clip(np.cos(angle) * xx + np.sin(angle) * yy, 0, 1)[..., None]
    return np.clip(a * (1 - w) + b * w + rng.normal(0, 0.015, (size, size, 1)), 0, 1)


@dataclass
class _Object:
    abbr: str
    playing: bool
    moves: bool  # a silent object that moves: drifting across the frame, or miming
    x: float
    y: float
    alpha: np.ndarray
    colour: np.ndarray
    drift: tuple[float, float] = (0.0, 0.0)
    mimes: bool = False  # moves as if it played a melody nobody hears


def _place(objects: list[_Object], size: int) -> None:
    """Distinct horizontal slots so sprites do not cover each other (drift stays inside its slot)."""
    slots = np.linspace(0, size, len(objects) + 1)
    for obj, lo, hi in zip(objects, slots[:-1], slots[1:]):
        s = obj.alpha.shape[0]
        obj.x = (lo + hi) / 2 - s / 2
        obj.y = (size - s) / 2


def render_frames(objects: list[_Object], envelopes: list[np.ndarray | None], cfg: AvScenesConfig,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(frames uint8 (T, H, W, 3), masks bool (T, S, H, W), boxes int (T, S, 4))``."""
    size, T = cfg.frame_size, cfg.n_frames
    bg = background(size, rng)
    frames = np.empty((T, size, size, 3), np.uint8)
    masks = np.zeros((T, len(objects), size, size), bool)
    boxes = np.zeros((T, len(objects), 4), np.int16)
    slot_w = size / len(objects)
    for t in range(T):
        img = bg.copy()
        for k, (obj, env) in enumerate(zip(objects, envelopes)):
            alpha, colour = obj.alpha, obj.colour.copy()
            s = alpha.shape[0]
            dx = dy = 0.0
            if obj.playing or obj.mimes:
                e = env[t]
                dx, dy = e * 2.5 * np.clip(rng.normal(size=2), -1.5, 1.5)
                look = LOOKS[obj.abbr]
                if look.shapes is _FIGURE8:  # a bow across the body, sliding with the sound
                    row = int(s * (0.62 + 0.12 * np.sin(2 * np.pi * np.sum(env[:t + 1]) / 3)))
                    colour[max(row - 1, 0):row + 1, :] = 0.95
                else:  # breath: the instrument swells as it sounds
                    colour = np.clip(colour * (1 + 0.35 * e), 0, 1)
            elif obj.moves:
                dx = obj.drift[0] * (t / max(T - 1, 1) - 0.5) * (slot_w - s)
                dy = obj.drift[1] * (t / max(T - 1, 1) - 0.5) * (size - s) * 0.5
            x0 = int(np.clip(round(obj.x + dx), 0, size - s))
            y0 = int(np.clip(round(obj.y + dy), 0, size - s))
            region = img[y0:y0 + s, x0:x0 + s]
            region[alpha] = colour[alpha]
            masks[t, :k, y0:y0 + s, x0:x0 + s] &= ~alpha  # what this sprite covers, the earlier ones do not show
            masks[t, k, y0:y0 + s, x0:x0 + s] = alpha
            boxes[t, k] = (x0, y0, x0 + s, y0 + s)
        frames[t] = np.round(img * 255).astype(np.uint8)
    return frames, masks, boxes


def render_scene(task, config: AvScenesConfig, root: str):
    kind, idx = task
    cfg = config
    rng = np.random.default_rng([cfg.seed, 0 if kind == "solo" else 1, idx])
    n_inst = len(cfg.instruments)
    if kind == "solo":
        players = [cfg.instruments[idx % n_inst]]
    else:  # every pair in turn, in a random left/right order
        pairs = [(a, b) for i, a in enumerate(cfg.instruments) for b in cfg.instruments[i + 1:]]
        players = list(pairs[idx % len(pairs)])
        rng.shuffle(players)
    objects = [_Object(a, True, False, 0, 0, *sprite(a, rng)) for a in players]
    distractor = None
    if rng.uniform() < cfg.distractor_rate:
        same = rng.uniform() < 0.5
        abbr = str(rng.choice(players)) if same else str(rng.choice([a for a in cfg.instruments if a not in players]))
        moves = bool(rng.uniform() < cfg.moving_distractor_rate)
        mimes = moves and bool(rng.uniform() < cfg.miming_rate)
        obj = _Object(abbr, False, moves, 0, 0, *sprite(abbr, rng),
                      drift=(0.0, 0.0) if mimes else tuple(rng.choice([-1, 1], 2) * rng.uniform(0.5, 1.0, 2)),
                      mimes=mimes)
        objects.insert(int(rng.integers(0, len(objects) + 1)), obj)
        distractor = {"same_instrument": bool(same), "moves": moves, "mimes": mimes}
    _place(objects, cfg.frame_size)
    sources = np.zeros((len(objects), cfg.n_samples), np.float32)
    envelopes = []
    for k, obj in enumerate(objects):
        if obj.playing:
            sources[k] = melody(obj.abbr, cfg, rng)
        # what the sprite moves with: its own sound, or for a mime a melody that is not in the mixture
        moves_with = sources[k] if obj.playing else melody(obj.abbr, cfg, rng) if obj.mimes else None
        envelopes.append(None if moves_with is None else frame_envelope(moves_with, cfg.n_frames))
    peak = np.abs(sources.sum(axis=0)).max()
    if peak > MIX_PEAK:  # scale all sources together, so the mixture stays their exact sum
        sources *= MIX_PEAK / peak
    mix = sources.sum(axis=0, dtype=np.float32)
    frames, masks, boxes = render_frames(objects, envelopes, cfg, rng)
    category = category_of(players)
    stem = f"{category}/{kind}{idx:04d}"
    # no sound track: the exact mixture is the WAV beside the video (AAC encoding took a quarter of the time)
    write_video(Path(root) / f"{stem}.mp4", frames, fps=cfg.fps)
    truth = Path(root) / f"{stem}.npz"
    np.savez_compressed(truth, sources=sources, masks=np.packbits(masks, axis=-1), boxes=boxes,
                        playing=np.array([o.playing for o in objects]), frame_size=cfg.frame_size)
    meta = {"category": category, "scene": kind, "instruments": [o.abbr for o in objects],
            "playing": [o.playing for o in objects], "distractor": distractor}
    return [(f"{stem}.wav", mix, meta)]


def read_truth(path: str | Path) -> dict:
    """A clip's ground truth: ``sources`` (S, n), ``masks`` bool (T, S, H, W), ``boxes`` (T, S, 4),
    ``playing`` (S,); a missing or damaged file is a :class:`DatasetError` naming it."""
    path = Path(path)
    try:
        with np.load(path) as z:
            size = int(z["frame_size"])
            return {"sources": z["sources"], "playing": z["playing"].astype(bool), "boxes": z["boxes"],
                    "masks": np.unpackbits(z["masks"], axis=-1, count=size).astype(bool)}
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable av-scenes ground truth ({exc})") from None


def write_annotations(root: Path, metas: dict) -> None:
    table = {rel.rsplit(".", 1)[0]: meta for rel, meta in sorted(metas.items())}
    (root / ANNOTATIONS).write_text(json.dumps(table, indent=1))


def generate(root: str | Path, config: AvScenesConfig | None = None, *, workers: int | None = None,
             show_progress: bool | None = None) -> Path:
    config = config or AvScenesConfig()
    root = Path(root)
    return write_dataset(
        root, name="av-scenes", config=config, tasks=config.tasks(),
        render=partial(render_scene, config=config, root=str(root)), sample_rate=config.sample_rate,
        subtype="FLOAT", extra_files=write_annotations,
        annotations=lambda rel: {"video": rel[:-4] + ".mp4", "truth": rel[:-4] + ".npz"},
        workers=workers, show_progress=show_progress, start_method="forkserver")
