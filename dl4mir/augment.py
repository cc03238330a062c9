"""Data augmentation for audio.

The softmax lesson's chain (noise, noise bursts, pitch shift, impulse-response convolution, filtering): NumPy in,
NumPy out, every random choice from the ``rng`` you pass.  Training's on-the-fly chain (:func:`augment_batch`):
torch batches, every choice from a seed.  Both build rooms with :func:`decaying_noise_ir`.

Each function states what it does in physical units (dB, semitones, Hz, seconds), and the tests measure it.
"""
from __future__ import annotations

import numpy as np
import pedalboard
import torch
from scipy.signal import butter, fftconvolve, sosfilt

from dl4mir.errors import ParameterError


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
    out = pedalboard.Pedalboard([pedalboard.PitchShift(semitones=semitones)])(y.astype(np.float32), sr)
    return out.astype(y.dtype)


def decaying_noise_ir(noise, t_s, rt60_s):
    """A room-like impulse response from white ``noise`` (NumPy or torch, ``(..., n)``) at times ``t_s``: a direct
    path of 1, then the noise at 0.3 decaying exponentially to -60 dB at ``rt60_s``.  The lesson's
    :func:`synthetic_ir` and training's :func:`augment_batch` both build their rooms with it."""
    ir = noise * 10 ** (-3 * t_s / rt60_s) * 0.3
    ir[..., 0] = 1.0
    return ir


def synthetic_ir(*, sr: int, rt60_s: float = 0.4, rng: np.random.Generator) -> np.ndarray:
    """:func:`decaying_noise_ir` of ``rt60_s`` seconds, normalized to unit energy."""
    n = int(rt60_s * sr)
    ir = decaying_noise_ir(rng.standard_normal(n), np.arange(n) / sr, rt60_s)
    return ir / np.sqrt(np.sum(ir ** 2))


def convolve_ir(y: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Convolve with an impulse response, keep the original length, and match the input's RMS."""
    out = fftconvolve(y, ir)[: len(y)]
    p_in, p_out = _power(y), _power(out)
    return out * np.sqrt(p_in / p_out) if p_out > 0 else out


def filter_audio(y: np.ndarray, *, sr: int, kind: str, cutoff_hz, order: int = 4) -> np.ndarray:
    """Butterworth ``lowpass``/``highpass`` (one cutoff) or ``bandpass`` (two), applied forward (causal)."""
    if kind not in ("lowpass", "highpass", "bandpass"):
        raise ParameterError(f"kind must be lowpass, highpass or bandpass, got {kind!r}")
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

# Training's augmentations: torch, batched, every draw from a seed so a resumed run redraws exactly the same ones.

def augment_batch(x: torch.Tensor, feature: str, *, seed) -> torch.Tensor:
    """Label-preserving changes drawn from ``seed`` (so a resumed run redraws exactly the same ones).

    Waveforms ``(B, 1, n)``, each change applied to a random half of the batch: varispeed pitch shift (±1
    semitone), a room impulse response (RT60 0.1–0.4 s), a zero-phase low-pass (Butterworth magnitude, 4th
    order, cutoff 0.15–0.45 × the sample rate), gain (±6 dB) and white noise at 20–40 dB SNR.
    Log-mel ``(B, mels, frames)``: gain (a level offset), a ±1 mel-band shift (≈ a small pitch shift) and one
    masked band of up to 4 mels (SpecAugment-style).
    """
    g = torch.Generator().manual_seed(int(np.random.SeedSequence(list(seed)).generate_state(1)[0]))
    n = x.shape[0]
    if feature == "waveform":
        return _augment_waveform(x, g)
    out = x + torch.empty(n, 1, 1).uniform_(-0.3, 0.3, generator=g)  # standardized units ≈ a few dB
    shifts = torch.randint(-1, 2, (n,), generator=g)
    out = torch.stack([torch.roll(out[i], int(shifts[i]), dims=0) for i in range(n)])
    width = torch.randint(0, 5, (n,), generator=g)
    start = torch.randint(0, max(1, x.shape[1] - 4), (n,), generator=g)
    for i in range(n):
        out[i, start[i]:start[i] + width[i]] = 0.0
    return out


def _augment_waveform(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    B, _, n = x.shape
    pick = lambda: torch.rand(B, generator=g) < 0.5  # noqa: E731  (which items get this change)
    out = x.clone()
    # varispeed pitch shift: read the clip faster or slower, re-cut to length
    which = pick()
    factors = 2 ** (torch.empty(B).uniform_(-1, 1, generator=g) / 12)
    for i in torch.nonzero(which).flatten().tolist():
        m = max(2, int(round(n / float(factors[i]))))
        y = torch.nn.functional.interpolate(out[i:i + 1], size=m, mode="linear", align_corners=False)
        out[i] = torch.nn.functional.pad(y, (0, max(0, n - m)))[..., :n][0]
    # room impulse response: exponentially decaying noise, convolved by FFT, RMS kept
    which = pick()
    if which.any():
        rt60 = torch.empty(B, 1).uniform_(0.1, 0.4, generator=g)  # seconds at 8 kHz
        length = int(0.4 * 8000)
        t = torch.arange(length) / 8000.0
        ir = decaying_noise_ir(torch.randn(B, length, generator=g), t, rt60)
        size = n + length
        wet = torch.fft.irfft(torch.fft.rfft(out[:, 0], size) * torch.fft.rfft(ir, size), size)[:, :n]
        wet = wet * (out[:, 0].pow(2).mean(-1, keepdim=True) / wet.pow(2).mean(-1, keepdim=True).clamp_min(1e-12)).sqrt()
        out[:, 0] = torch.where(which[:, None], wet, out[:, 0])
    # zero-phase low-pass
    which = pick()
    if which.any():
        spec = torch.fft.rfft(out[:, 0])
        f = torch.linspace(0, 0.5, spec.shape[-1])
        cutoff = torch.empty(B, 1).uniform_(0.15, 0.45, generator=g)
        response = 1 / torch.sqrt(1 + (f / cutoff) ** 8)
        filtered = torch.fft.irfft(spec * response, n)
        out[:, 0] = torch.where(which[:, None], filtered, out[:, 0])
    # gain and noise
    gain = torch.where(pick(), 10 ** (torch.empty(B).uniform_(-6, 6, generator=g) / 20), torch.ones(B))
    out = out * gain[:, None, None]
    snr = torch.empty(B, 1, 1).uniform_(20, 40, generator=g)
    noise = torch.randn(out.shape, generator=g) * torch.sqrt(out.pow(2).mean(-1, keepdim=True) / 10 ** (snr / 10))
    return out + noise * pick()[:, None, None]
