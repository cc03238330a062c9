"""Control features for differentiable synthesis (DDSP, DDX7): the f0 and loudness curves a decoder is driven by,
at one control rate (250 frames per second by default, DDX7's).

f0 comes from swift-f0 (a small neural tracker whose ONNX model ships in its wheel; torchcrepe and PESTO would
need torchaudio, which has no build for torch 2.13) or from dl4mir's YIN.  Loudness is DDSP's: the A-weighted
power of each frame in dB.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from dl4mir.audio import resample
from dl4mir.errors import ParameterError
from dl4mir.features import spectral as F

CONTROL_RATE_HZ = 250.0
SWIFT_RATE = 16000  # swift-f0's input rate; it answers every 256 samples (16 ms)
METHODS = ("swift-f0", "yin")


@lru_cache(maxsize=1)
def _swift():
    from swift_f0 import SwiftF0  # onnxruntime loads here, only when the neural tracker is asked for

    return SwiftF0(spin=False)  # no spinning worker threads left burning the cores between calls


def n_frames(n_samples: int, sr: float, frame_rate_hz: float = CONTROL_RATE_HZ) -> int:
    """Control frames for ``n_samples`` at ``sr``: one per ``1 / frame_rate_hz`` s, the first at t = 0."""
    return max(1, int(round(n_samples / sr * frame_rate_hz)))


def _check(y, sr) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise ParameterError(f"control features need mono audio, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ParameterError("control features: the audio holds NaN or infinite samples")
    if sr <= 0:
        raise ParameterError(f"sample rate must be positive, got {sr}")
    return y


def f0_track(*, y: np.ndarray, sr: float, frame_rate_hz: float = CONTROL_RATE_HZ, method: str = "swift-f0",
             fmin_hz: float = 46.875, fmax_hz: float = 2093.75, confidence: float = 0.5
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(f0_hz, voiced)``, each ``(frames,)`` at ``frame_rate_hz``: the tracker's f0, linearly interpolated in
    log-frequency between voiced frames and held at the ends (a decoder needs a pitch everywhere), and which frames
    were voiced (swift-f0's confidence ≥ ``confidence``; YIN: a dip below its threshold).  The default range is
    swift-f0's (G1–C7)."""
    if method not in METHODS:
        raise ParameterError(f"f0 method {method!r} is not one of {', '.join(METHODS)}")
    y = _check(y, sr)
    times = np.arange(n_frames(len(y), sr, frame_rate_hz)) / frame_rate_hz
    if method == "swift-f0":
        x = y if sr == SWIFT_RATE else resample(y, orig_sr=sr, target_sr=SWIFT_RATE).astype(np.float32)
        result = _swift().detect(x, SWIFT_RATE)
        track_t, track_f0 = np.asarray(result.timestamps), np.asarray(result.pitch_hz, dtype=float)
        voiced = (np.asarray(result.confidence) >= confidence) & (track_f0 >= fmin_hz) & (track_f0 <= fmax_hz)
    else:
        hop = max(1, int(round(sr / frame_rate_hz)))
        frame_length = 1 << int(np.ceil(np.log2(2.5 * sr / fmin_hz)))  # at least two and a half periods of fmin
        track_f0 = F.yin(y, fmin=fmin_hz, fmax=min(fmax_hz, sr / 2), sr=sr, frame_length=frame_length,
                         hop_length=hop)
        track_t = np.arange(len(track_f0)) * hop / sr
        voiced = (track_f0 > fmin_hz * 1.01) & (track_f0 < fmax_hz * 0.99)  # YIN at its range's edge: no pitch
    if not voiced.any():
        return np.zeros_like(times), np.zeros(len(times), dtype=bool)
    log_f0 = np.interp(times, track_t[voiced], np.log2(track_f0[voiced]))
    return 2.0 ** log_f0, np.interp(times, track_t, voiced.astype(float)) >= 0.5


def note_f0(*, y: np.ndarray, sr: float, method: str = "swift-f0") -> float | None:
    """One note's f0 in Hz: the median of :func:`f0_track` over its voiced frames, ``None`` if none is voiced."""
    f0, voiced = f0_track(y=y, sr=sr, method=method)
    return float(np.median(f0[voiced])) if voiced.any() else None


def a_weighting_db(frequencies_hz) -> np.ndarray:
    """IEC 61672's A-weighting in dB (0 dB at 1 kHz; the pole frequencies to librosa's precision)."""
    f2 = np.asarray(frequencies_hz, dtype=float) ** 2
    p1, p2, p3, p4 = 20.598997 ** 2, 107.65265 ** 2, 737.86223 ** 2, 12194.217 ** 2
    with np.errstate(divide="ignore"):
        return 2.0 + 20 * (np.log10(p4) + 2 * np.log10(f2) - np.log10(f2 + p4) - np.log10(f2 + p1)
                           - 0.5 * np.log10(f2 + p2) - 0.5 * np.log10(f2 + p3))


LOUDNESS_FLOOR_DB = -100.0  # silence


def loudness_db(*, y: np.ndarray, sr: float, frame_rate_hz: float = CONTROL_RATE_HZ, n_fft: int = 2048,
                floor_db: float = LOUDNESS_FLOOR_DB) -> np.ndarray:
    """A-weighted loudness per frame in dB (DDSP's): the mean over frequency of each frame's A-weighted power
    spectrum (Hann window, ``n_fft``, centred frames), ``(frames,)`` at ``frame_rate_hz``, ``floor_db`` for
    silence.  The scale is relative (a full-scale 1 kHz sine reads −28 dB with the defaults: its power sits in a few
    of the 1,025 bins the mean runs over); differences are what a decoder uses: half the amplitude is −6.02 dB."""
    y = _check(y, sr)
    hop = sr / frame_rate_hz
    frames = n_frames(len(y), sr, frame_rate_hz)
    padded = np.pad(y, (n_fft // 2, n_fft // 2 + n_fft))
    starts = np.round(np.arange(frames) * hop).astype(int)
    window = np.hanning(n_fft + 1)[:-1]
    blocks = padded[starts[:, None] + np.arange(n_fft)[None, :]] * window
    power = np.abs(np.fft.rfft(blocks, axis=1)) ** 2 / (window.sum() ** 2 / 4)  # a full-scale sine's peak → 1
    weighted = power * 10 ** (a_weighting_db(np.fft.rfftfreq(n_fft, 1 / sr)) / 10)
    return np.maximum(10 * np.log10(weighted.mean(axis=1) + 1e-30), floor_db)
