"""Patches: each synthesizer's parameters by name, with units and musical ranges, and a patch rendered as a note.

A patch is a flat mapping ``{name: value}`` (a JSON object on disk); :data:`SPACES` says, per synth, every
parameter's range and whether it is spread on a log scale, so :func:`normalize` / :func:`denormalize` map a patch
to and from the unit cube that parameter estimators predict (Flow Synthesizer, Faronbi et al.).
:func:`render` plays a patch as one note: f0 and the key-down time are the note's, the patch is the sound.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dl4mir.errors import ConfigError
from dl4mir.synth import fm as fm_synth
from dl4mir.synth.envelopes import adsr
from dl4mir.synth.harmonic_noise import filtered_noise, harmonic
from dl4mir.synth.subtractive import lowpass, oscillator

N_HARMONICS = 60
NOISE_BANDS = 65
CONTROL_RATE_HZ = 250  # frames per second of the time-varying controls (DDX7's rate)


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool = False  # spread on a log scale (times, frequencies, ratios)
    unit: str = ""

    def to_unit(self, value):
        if self.log:
            return (np.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u):
        """The value at ``u`` in [0, 1]: numbers, arrays, or tensors (differentiably, for sound matching)."""
        if self.log:
            exp = torch.exp if isinstance(u, torch.Tensor) else np.exp
            return exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


def _envelope(prefix: str) -> dict[str, Range]:
    return {f"{prefix}attack_s": Range(0.002, 0.5, True, "s"), f"{prefix}decay_s": Range(0.01, 2.0, True, "s"),
            f"{prefix}sustain_level": Range(0.0, 1.0), f"{prefix}release_s": Range(0.01, 1.0, True, "s")}


def _fm_space() -> dict[str, Range]:
    space = {}
    for k in range(1, 7):
        space[f"op{k}_ratio"] = Range(0.5, 8.0, True, "× f0")
        space[f"op{k}_level"] = Range(0.0, 1.0, unit="carrier: amplitude; modulator: index / MAX_INDEX")
        space.update(_envelope(f"op{k}_"))
    return space


MAX_INDEX = 6.0  # radians: a modulator at level 1 (the DX7's output level 99 is about 13 rad; the band limit caps)
SPACES = {
    "fm": _fm_space(),
    "harmonic-noise": {"brightness_db_per_octave": Range(-24.0, 0.0, unit="dB/octave"),
                       "even_level": Range(0.0, 1.0, unit="even harmonics' gain: 0 (clarinet-like) … 1"),
                       "noise_level": Range(0.0, 0.5), "noise_cutoff_hz": Range(200.0, 8000.0, True, "Hz"),
                       **_envelope("")},
    "subtractive": {"saw_level": Range(0.0, 1.0), "pulse_level": Range(0.0, 1.0),
                    "pulse_width": Range(0.05, 0.5, unit="cycles low"), "cutoff_hz": Range(100.0, 8000.0, True, "Hz"),
                    "resonance": Range(0.0, 1.0, unit="0: Q 0.71 … 1: Q 8"),
                    "filter_env_octaves": Range(0.0, 4.0, unit="octaves"), **_envelope(""),
                    **_envelope("filter_")},
}
FM_ALGORITHM = "2x3"  # the presets' algorithm (DDX7's two stacks of three)


def names(synth: str) -> list[str]:
    return list(_space(synth))


def _space(synth: str) -> dict[str, Range]:
    if synth not in SPACES:
        raise ConfigError(f"unknown synth {synth!r}; synths are: {', '.join(SPACES)}")
    return SPACES[synth]


def validate(patch, synth: str, *, source: str = "<patch>") -> dict[str, float]:
    """The patch as ``{name: float}`` in the synth's order, or a :class:`ConfigError` naming ``source`` and the key:
    not an object, a key missing or unknown, a value that is not a finite number or is out of its range."""
    space = _space(synth)
    if not isinstance(patch, dict):
        raise ConfigError(f"{source}: a {synth} patch must be a JSON object of parameter: value, got "
                          f"{type(patch).__name__}")
    missing = [k for k in space if k not in patch]
    unknown = [k for k in patch if k not in space]
    if missing or unknown:
        raise ConfigError(f"{source}: {synth} patch " + "; ".join(
            part for part in (f"missing {', '.join(missing)}" if missing else "",
                              f"unknown {', '.join(unknown)}" if unknown else "") if part)
            + f" (its parameters: {', '.join(space)})")
    out = {}
    for key, rng in space.items():
        value = patch[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{source}: {key} must be a finite number, got {value!r}")
        if not rng.low <= value <= rng.high:
            raise ConfigError(f"{source}: {key} = {value} is outside its range {rng.low} … {rng.high}"
                              + (f" {rng.unit}" if rng.unit else ""))
        out[key] = float(value)
    return out


def load(path: str | os.PathLike, synth: str) -> dict[str, float]:
    """A patch from a JSON file, validated (:func:`validate`)."""
    path = Path(path)
    try:
        patch = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such patch file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return validate(patch, synth, source=str(path))


def normalize(patch: dict[str, float], synth: str) -> np.ndarray:
    return np.array([rng.to_unit(patch[k]) for k, rng in _space(synth).items()])


def denormalize(u, synth: str) -> dict[str, float]:
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    return {k: float(rng.from_unit(v)) for (k, rng), v in zip(_space(synth).items(), u)}


FM_RATIOS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)  # the DX7's coarse ratios in range: harmonic spectra


def params_from_unit(u: torch.Tensor, synth: str) -> dict[str, torch.Tensor]:
    """``(B, P)`` points of the unit cube → ``{name: (B,)}`` parameter values (differentiable), for
    :func:`render_batch`."""
    return {k: rng.from_unit(u[:, j]) for j, (k, rng) in enumerate(_space(synth).items())}


def random_patch(synth: str, rng: np.random.Generator) -> dict[str, float]:
    """A patch drawn uniformly in each parameter's (log-)range; FM ratios drawn from the DX7's coarse ratios
    (:data:`FM_RATIOS`), so the note is harmonic and sounds at its f0 or a multiple."""
    patch = denormalize(rng.random(len(_space(synth))), synth)
    if synth == "fm":
        patch.update({k: float(rng.choice(FM_RATIOS)) for k in patch if k.endswith("_ratio")})
    return patch


def render_batch(synth: str, params: dict[str, torch.Tensor], *, f0_hz, note_s, sample_rate: float,
                 n_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(B, n_samples)`` notes from patches given as ``{name: (B,) tensor}`` (differentiable in every value), at
    ``f0_hz`` and released at ``note_s`` (each ``(B,)`` or a number)."""
    p = params
    like = next(iter(p.values()))
    f0 = torch.as_tensor(f0_hz, dtype=like.dtype).expand(like.shape[0])
    note = torch.as_tensor(note_s, dtype=like.dtype).expand(like.shape[0])
    frames = max(2, int(round(n_samples / sample_rate * CONTROL_RATE_HZ)))

    def env(prefix: str, n: int):
        return adsr(attack_s=p[f"{prefix}attack_s"], decay_s=p[f"{prefix}decay_s"],
                    sustain_level=p[f"{prefix}sustain_level"], release_s=p[f"{prefix}release_s"], note_s=note,
                    n_samples=n, sample_rate=n / (n_samples / sample_rate))

    if synth == "fm":
        K = fm_synth.operators(FM_ALGORITHM)
        carriers = fm_synth.carriers(FM_ALGORITHM)
        scale = torch.tensor([1 / len(carriers) if k in carriers else MAX_INDEX for k in range(K)], dtype=like.dtype)
        ratios = torch.stack([p[f"op{k + 1}_ratio"] for k in range(K)], dim=1)
        levels = torch.stack([p[f"op{k + 1}_level"][:, None] * env(f"op{k + 1}_", frames) for k in range(K)], dim=1)
        return fm_synth.fm(f0_hz=f0, ratios=ratios, levels=levels * scale[None, :, None], sample_rate=sample_rate,
                           n_samples=n_samples, algorithm=FM_ALGORITHM)
    if synth == "harmonic-noise":
        k = torch.arange(1, N_HARMONICS + 1, dtype=like.dtype)
        slope = 10 ** (p["brightness_db_per_octave"][:, None] * torch.log2(k)[None] / 20)  # (B, H)
        even = (k % 2 == 0).to(like.dtype)[None]
        dist = slope * (1 - even + even * p["even_level"][:, None])
        amp = 0.5 * env("", frames)
        band_hz = torch.linspace(0, sample_rate / 2, NOISE_BANDS, dtype=like.dtype)
        noise_gain = (p["noise_level"][:, None] / (1 + (band_hz[None] / p["noise_cutoff_hz"][:, None]) ** 4))
        noise = filtered_noise(magnitudes=noise_gain[:, :, None] * amp[:, None, :], n_samples=n_samples,
                               generator=generator)
        return harmonic(f0_hz=f0, amplitude=amp, distribution=dist, sample_rate=sample_rate,
                        n_samples=n_samples) + noise
    if synth == "subtractive":
        osc = oscillator(f0_hz=f0, saw_level=p["saw_level"], pulse_level=p["pulse_level"],
                         pulse_width=p["pulse_width"], sample_rate=sample_rate, n_samples=n_samples, dtype=like.dtype)
        cutoff = p["cutoff_hz"][:, None] * 2 ** (p["filter_env_octaves"][:, None] * env("filter_", frames))
        filtered = lowpass(osc, cutoff_hz=cutoff.clamp(max=0.49 * sample_rate), resonance=p["resonance"],
                           sample_rate=sample_rate)
        return 0.5 * filtered * env("", n_samples)
    _space(synth)  # raises: unknown synth
    raise AssertionError(synth)


def render(synth: str, patch: dict[str, float], *, f0_hz: float, note_s: float, duration_s: float,
           sample_rate: float = 16000, seed: int = 0) -> np.ndarray:
    """One note of a (validated) patch as a float32 waveform of ``duration_s`` seconds."""
    patch = validate(patch, synth)
    params = {k: torch.tensor([v], dtype=torch.float32) for k, v in patch.items()}
    with torch.no_grad():
        y = render_batch(synth, params, f0_hz=f0_hz, note_s=note_s, sample_rate=sample_rate,
                         n_samples=int(round(duration_s * sample_rate)),
                         generator=torch.Generator().manual_seed(seed))
    return y[0].numpy().astype(np.float32)
