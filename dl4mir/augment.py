"""Data augmentation for audio, as the softmax lesson lists it: noise, noise bursts, pitch shift, impulse-response
convolution and filtering.  Numpy in, numpy out; every random choice comes from the ``rng`` you pass.

Each function states what it does in physical units (dB, semitones, Hz, seconds), and the tests measure it.
"""
from __future__ import annotations

import numpy as np


def _power(y):
    return float(np.mean(np.square(y)))


def add_noise(y: np.ndarray, *, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise at ``snr_db`` below the signal's mean power."""
    p = _power(y)
    if p == 0:
        return y.copy()
    return y + rng.standard_normal(y.shape) * np.sqrt(p / 10 ** (snr_db / 10))


def noise_bursts(y: np.ndarray, *, sr: int, n_bursts: int = 3, burst_s: float = 0.02, snr_db: float = 0.0,
                 rng: np.random.Generator) -> np.ndarray:
    """Add ``n_bursts`` short white-noise bursts (clicks, dropouts' crackle), each at ``snr_db`` to the signal."""
    out = y.copy()
    n = max(1, int(burst_s * sr))
    level = np.sqrt(max(_power(y), 1e-12) / 10 ** (snr_db / 10))
    for _ in range(n_bursts):
        start = int(rng.integers(0, max(1, len(y) - n)))
        out[start:start + n] += level * rng.standard_normal(min(n, len(y) - start)) * np.hanning(min(n, len(y) - start))
    return out


def pitch_shift(y: np.ndarray, *, sr: int, semitones: float) -> np.ndarray:
    """Shift pitch by ``semitones`` keeping the duration (pedalboard's phase-vocoder-free pitch shifter)."""
    import pedalboard

    out = pedalboard.Pedalboard([pedalboard.PitchShift(semitones=semitones)])(y.astype(np.float32), sr)
    return out.astype(y.dtype)


def synthetic_ir(*, sr: int, rt60_s: float = 0.4, rng: np.random.Generator) -> np.ndarray:
    """A room-like impulse response: a direct path then exponentially decaying noise reaching -60 dB at ``rt60_s``."""
    n = int(rt60_s * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * 10 ** (-3 * t / rt60_s) * 0.3
    ir[0] = 1.0
    return ir / np.sqrt(np.sum(ir ** 2))


def convolve_ir(y: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Convolve with an impulse response, keep the original length, and match the input's RMS."""
    from scipy.signal import fftconvolve

    out = fftconvolve(y, ir)[: len(y)]
    p_in, p_out = _power(y), _power(out)
    return out * np.sqrt(p_in / p_out) if p_out > 0 else out


def filter_audio(y: np.ndarray, *, sr: int, kind: str, cutoff_hz, order: int = 4) -> np.ndarray:
    """Butterworth ``lowpass``/``highpass`` (one cutoff) or ``bandpass`` (two), applied forward (causal)."""
    from scipy.signal import butter, sosfilt

    if kind not in ("lowpass", "highpass", "bandpass"):
        raise ValueError(f"kind must be lowpass, highpass or bandpass, got {kind!r}")
    sos = butter(order, cutoff_hz, btype=kind, fs=sr, output="sos")
    return sosfilt(sos, y).astype(y.dtype)


def random_augment(y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One random draw of the lesson's chain: each augmentation applied with probability ½."""
    if rng.random() < 0.5:
        y = pitch_shift(y, sr=sr, semitones=float(rng.uniform(-1.5, 1.5)))
    if rng.random() < 0.5:
        y = convolve_ir(y, synthetic_ir(sr=sr, rt60_s=float(rng.uniform(0.1, 0.5)), rng=rng))
    if rng.random() < 0.5:
        y = filter_audio(y, sr=sr, kind="lowpass", cutoff_hz=float(rng.uniform(0.25, 0.45) * sr))
    if rng.random() < 0.5:
        y = add_noise(y, snr_db=float(rng.uniform(10, 30)), rng=rng)
    if rng.random() < 0.5:
        y = noise_bursts(y, sr=sr, snr_db=float(rng.uniform(0, 10)), rng=rng)
    return y
