"""Audio features, librosa-style: keyword-only arguments, explicit ``sr``, a waveform ``y`` *or* a precomputed
spectrogram ``S``, and leading batch axes (``y`` is ``(..., n)``, spectrograms ``(..., freq, frames)``).

Conventions (the same as librosa 0.11 unless stated, and checked against it in the tests):

* STFT: periodic Hann window, ``center=True`` with zero (``"constant"``) padding of ``n_fft // 2``.
* ``melspectrogram`` is a *power* mel spectrogram (``power=2``) with **Slaney**'s mel scale and Slaney area
  normalization by default (``htk=True`` and ``norm=None`` give the HTK variant).
* ``power_to_db(S, ref=1, amin=1e-10, top_db=80)``.  With leading batch axes, ``top_db`` clips each item
  relative to *its own* maximum (librosa uses one maximum for the whole array).
* ``mfcc``: DCT-II with orthonormal scaling of the log-power mel spectrogram, first ``n_mfcc`` coefficients.
* Spectral centroid, bandwidth, rolloff, contrast use the magnitude spectrogram; flatness the power spectrum.
* ``chroma_stft`` uses ``tuning=0`` by default (librosa estimates tuning when given ``None``; so do we).
* ``yin`` follows de Cheveigné & Kawahara (2002) as librosa implements it (difference function from the
  autocorrelation, cumulative-mean normalization, absolute threshold, parabolic refinement).
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.sparse

from dl4mir.errors import ParameterError

__all__ = [
    "frame", "dft_matrix", "dft", "fft_frequencies", "stft", "spectrogram", "hz_to_mel", "mel_to_hz",
    "mel_frequencies", "mel_filterbank", "melspectrogram", "power_to_db", "amplitude_to_db", "dct_matrix",
    "log_mel", "mfcc", "mfcc_steps", "spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
    "spectral_flatness", "spectral_contrast", "zero_crossing_rate", "rms", "chroma_filterbank", "chroma_stft",
    "yin", "cqt_frequencies", "cqt",
]


# ---------------------------------------------------------------- framing and the DFT
def frame(y: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Frames of ``y`` as a strided view: ``(..., n)`` → ``(..., frame_length, n_frames)`` (librosa's layout)."""
    y = np.asarray(y)
    if y.shape[-1] < frame_length:
        raise ParameterError(f"signal of {y.shape[-1]} samples is shorter than one frame ({frame_length})")
    win = np.lib.stride_tricks.sliding_window_view(y, frame_length, axis=-1)[..., ::hop_length, :]
    return np.swapaxes(win, -1, -2)


def dft_matrix(n: int) -> np.ndarray:
    """The ``n × n`` DFT matrix ``W[k, m] = exp(-2πi·k·m/n)``: the DFT "by hand" as one matrix–vector product."""
    k = np.arange(n)
    return np.exp(-2j * np.pi * np.outer(k, k) / n)


def dft(x: np.ndarray) -> np.ndarray:
    """DFT over the last axis as ``W @ x`` (O(n²): for teaching and small n; :func:`numpy.fft.fft` is the fast one)."""
    x = np.asarray(x)
    return x @ dft_matrix(x.shape[-1]).T


def fft_frequencies(*, sr: float, n_fft: int) -> np.ndarray:
    """Centre frequency in Hz of each of the ``1 + n_fft // 2`` rfft bins."""
    return np.fft.rfftfreq(n_fft, 1.0 / sr)


def _window(n_fft: int, win_length: int | None) -> np.ndarray:
    win_length = win_length or n_fft
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)  # periodic Hann
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        w = np.pad(w, (left, n_fft - win_length - left))
    return w


def stft(y: np.ndarray, *, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
         center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Short-time Fourier transform: ``(..., n)`` → complex ``(..., 1 + n_fft // 2, n_frames)``."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float32)
    hop_length = hop_length or n_fft // 4
    if center:
        pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        y = np.pad(y, pad, mode=pad_mode)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft, axis=-1)[..., ::hop_length, :]
    spec = np.fft.rfft(frames * _window(n_fft, win_length).astype(y.dtype), axis=-1)
    out_dtype = np.complex64 if y.dtype == np.float32 else np.complex128
    return np.swapaxes(spec, -1, -2).astype(out_dtype, copy=False)


def spectrogram(*, y: np.ndarray | None = None, S: np.ndarray | None = None, n_fft: int = 2048,
                hop_length: int = 512, win_length: int | None = None, power: float = 1.0, center: bool = True,
                pad_mode: str = "constant") -> tuple[np.ndarray, int]:
    """``|STFT|**power`` from ``y``, or ``S`` passed through; returns ``(S, n_fft)`` (``n_fft`` inferred from S)."""
    if S is not None:
        S = np.asarray(S)
        return S, 2 * (S.shape[-2] - 1)
    if y is None:
        raise ParameterError("give y= (a waveform) or S= (a spectrogram)")
    mag = np.abs(stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center,
                      pad_mode=pad_mode))
    return (mag if power == 1 else mag ** power), n_fft


# ---------------------------------------------------------------- mel
def hz_to_mel(f_hz, *, htk: bool = False):
    """Hz → mel: Slaney (linear below 1 kHz, logarithmic above) or HTK (``2595·log10(1 + f/700)``)."""
    f = np.asarray(f_hz, dtype=float)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, mels)


def mel_to_hz(mels, *, htk: bool = False):
    m = np.asarray(mels, dtype=float)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_frequencies(*, n_mels: int = 128, fmin: float = 0.0, fmax: float = 11025.0, htk: bool = False):
    return mel_to_hz(np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels), htk=htk)


def mel_filterbank(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
                   htk: bool = False, norm: str | None = "slaney") -> np.ndarray:
    """Triangular mel filters ``(n_mels, 1 + n_fft // 2)``; ``norm="slaney"`` gives each filter unit area."""
    fmax = sr / 2 if fmax is None else fmax
    fft_f = fft_frequencies(sr=sr, n_fft=n_fft)
    mel_f = mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    elif norm is not None:
        raise ParameterError(f"norm must be 'slaney' or None, got {norm!r}")
    return weights.astype(np.float32)


def melspectrogram(*, y: np.ndarray | None = None, sr: float = 22050, S: np.ndarray | None = None,
                   n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None, power: float = 2.0,
                   n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                   norm: str | None = "slaney", center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Mel spectrogram ``(..., n_mels, frames)``.  ``S`` if given must already be ``|STFT|**power``."""
    S, n_fft = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, win_length=win_length, power=power,
                           center=center, pad_mode=pad_mode)
    fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    return np.einsum("mf,...ft->...mt", fb, S, optimize=True)


def power_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """``10·log10(max(S, amin) / ref)``, floored at ``top_db`` below each item's maximum."""
    S = np.asarray(S)
    if amin <= 0:
        raise ParameterError("amin must be strictly positive")
    log_spec = 10.0 * np.log10(np.maximum(amin, S)) - 10.0 * np.log10(max(amin, ref))
    if top_db is not None:
        if top_db < 0:
            raise ParameterError("top_db must be non-negative")
        peak = log_spec.max(axis=(-2, -1), keepdims=True) if log_spec.ndim >= 2 else log_spec.max()
        log_spec = np.maximum(log_spec, peak - top_db)
    return log_spec


def amplitude_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-5, top_db: float | None = 80.0):
    """dB of a magnitude: ``power_to_db(S**2, ref=ref**2, amin=amin**2)``."""
    return power_to_db(np.abs(S) ** 2, ref=ref ** 2, amin=amin ** 2, top_db=top_db)


def log_mel(*, y=None, sr: float = 22050, S=None, top_db: float | None = 80.0, **kwargs) -> np.ndarray:
    """``power_to_db(melspectrogram(...))``: the course's log-mel input for networks."""
    return power_to_db(melspectrogram(y=y, sr=sr, S=S, **kwargs), top_db=top_db)


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II rows ``(n_out, n_in)``: ``C[k, m] = √(2/n)·cos(πk(2m+1)/2n)``, row 0 scaled by 1/√2."""
    k = np.arange(n_out)[:, None]
    m = np.arange(n_in)[None, :]
    c = np.sqrt(2.0 / n_in) * np.cos(np.pi * k * (2 * m + 1) / (2 * n_in))
    c[0] /= np.sqrt(2.0)
    return c.astype(np.float32)


def mfcc_steps(*, y=None, sr: float = 22050, S=None, n_mfcc: int = 20, lifter: float = 0, n_fft: int = 2048,
               hop_length: int = 512, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
               top_db: float | None = 80.0, **kwargs) -> dict[str, np.ndarray]:
    """The MFCC pipeline one step at a time, as the course teaches it.

    Returns ``{"power": |STFT|², "mel": mel power, "log_mel": dB, "mfcc": DCT-II}`` (``power`` is ``None`` if
    a mel spectrogram ``S`` was given).
    """
    if S is None:
        power, n_fft = spectrogram(y=y, n_fft=n_fft, hop_length=hop_length, power=2.0, **kwargs)
        mel = melspectrogram(S=power, sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax)
    else:
        power, mel = None, np.asarray(S)
    logm = power_to_db(mel, top_db=top_db)
    coeffs = np.einsum("km,...mt->...kt", dct_matrix(n_mfcc, logm.shape[-2]), logm, optimize=True)
    if lifter > 0:
        k = np.arange(1, n_mfcc + 1)[:, None]
        coeffs = coeffs * (1 + (lifter / 2) * np.sin(np.pi * k / lifter))
    return {"power": power, "mel": mel, "log_mel": logm, "mfcc": coeffs}


def mfcc(*, y=None, sr: float = 22050, S=None, n_mfcc: int = 20, **kwargs) -> np.ndarray:
    """Mel-frequency cepstral coefficients ``(..., n_mfcc, frames)``.  ``S``: a *power* mel spectrogram."""
    return mfcc_steps(y=y, sr=sr, S=S, n_mfcc=n_mfcc, **kwargs)["mfcc"]


# ---------------------------------------------------------------- spectral shape
def _normalize_l1(S):
    total = S.sum(axis=-2, keepdims=True)
    return S / np.where(total < np.finfo(S.dtype).tiny, 1.0, total)


def spectral_centroid(*, y=None, sr: float = 22050, S=None, n_fft: int = 2048, hop_length: int = 512,
                      **kwargs) -> np.ndarray:
    """Magnitude-weighted mean frequency in Hz, ``(..., 1, frames)``."""
    S, n_fft = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, **kwargs)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)[:, None]
    return np.sum(freq * _normalize_l1(S), axis=-2, keepdims=True)


def spectral_bandwidth(*, y=None, sr: float = 22050, S=None, n_fft: int = 2048, hop_length: int = 512,
                       p: float = 2.0, **kwargs) -> np.ndarray:
    """``(Σ S·|f − centroid|^p)^(1/p)`` in Hz, ``(..., 1, frames)`` (S normalized per frame)."""
    S, n_fft = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, **kwargs)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)[:, None]
    Sn = _normalize_l1(S)
    centroid = np.sum(freq * Sn, axis=-2, keepdims=True)
    return np.sum(Sn * np.abs(freq - centroid) ** p, axis=-2, keepdims=True) ** (1.0 / p)


def spectral_rolloff(*, y=None, sr: float = 22050, S=None, n_fft: int = 2048, hop_length: int = 512,
                     roll_percent: float = 0.85, **kwargs) -> np.ndarray:
    """Lowest frequency below which ``roll_percent`` of the frame's magnitude lies, ``(..., 1, frames)``."""
    if not 0 < roll_percent < 1:
        raise ParameterError("roll_percent must lie in (0, 1)")
    S, n_fft = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, **kwargs)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)[:, None]
    total = np.cumsum(S, axis=-2)
    threshold = roll_percent * total[..., -1:, :]
    ind = np.where(total < threshold, np.nan, 1.0)
    return np.nanmin(ind * freq, axis=-2, keepdims=True)


def spectral_flatness(*, y=None, S=None, n_fft: int = 2048, hop_length: int = 512, amin: float = 1e-10,
                      power: float = 2.0, **kwargs) -> np.ndarray:
    """Geometric over arithmetic mean of the power spectrum: 1 for white noise, → 0 for a pure tone."""
    S, _ = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, **kwargs)
    S_thresh = np.maximum(amin, S ** power)
    gmean = np.exp(np.mean(np.log(S_thresh), axis=-2, keepdims=True))
    return gmean / np.mean(S_thresh, axis=-2, keepdims=True)


def spectral_contrast(*, y=None, sr: float = 22050, S=None, n_fft: int = 2048, hop_length: int = 512,
                      fmin: float = 200.0, n_bands: int = 6, quantile: float = 0.02, **kwargs) -> np.ndarray:
    """Peak-minus-valley level (dB) in ``n_bands`` octave bands above ``fmin`` plus one below: ``(..., n_bands+1, frames)``."""
    S, n_fft = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, **kwargs)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * 2.0 ** np.arange(n_bands + 1)
    if np.any(octa[:-1] >= 0.5 * sr):
        raise ParameterError("a band exceeds Nyquist: lower fmin or n_bands")
    shape = list(S.shape)
    shape[-2] = n_bands + 1
    valley, peak = np.zeros(shape), np.zeros(shape)
    for k, (lo, hi) in enumerate(zip(octa[:-1], octa[1:])):
        band = (freq >= lo) & (freq <= hi)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1:] = True
        sub = S[..., band, :]
        if k < n_bands:
            sub = sub[..., :-1, :]
        n = max(int(np.rint(quantile * band.sum())), 1)
        srt = np.sort(sub, axis=-2)
        valley[..., k, :] = srt[..., :n, :].mean(axis=-2)
        peak[..., k, :] = srt[..., -n:, :].mean(axis=-2)
    return power_to_db(peak) - power_to_db(valley)


# ---------------------------------------------------------------- time domain
def zero_crossing_rate(y: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
                       threshold: float = 1e-10) -> np.ndarray:
    """Fraction of sign changes per frame, ``(..., 1, frames)``; samples with ``|x| ≤ threshold`` count as 0 (positive)."""
    y = np.asarray(y)
    if center:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(frame_length // 2, frame_length // 2)], mode="edge")
    frames = frame(y, frame_length=frame_length, hop_length=hop_length)
    neg = np.signbit(np.where(np.abs(frames) <= threshold, 0.0, frames))
    crossings = neg[..., 1:, :] != neg[..., :-1, :]
    return crossings.sum(axis=-2, keepdims=True) / frame_length


def rms(*, y: np.ndarray | None = None, S: np.ndarray | None = None, frame_length: int = 2048,
        hop_length: int = 512, center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Root-mean-square level per frame, ``(..., 1, frames)``, from samples or from a magnitude STFT ``S``."""
    if y is not None:
        y = np.asarray(y)
        if center:
            y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(frame_length // 2, frame_length // 2)], mode=pad_mode)
        x = frame(y, frame_length=frame_length, hop_length=hop_length)
        return np.sqrt(np.mean(np.abs(x) ** 2, axis=-2, keepdims=True))
    if S is None:
        raise ParameterError("give y= or S=")
    x = np.abs(np.asarray(S)) ** 2
    x[..., 0, :] *= 0.5  # Parseval: the DC and Nyquist bins appear once in the one-sided spectrum
    if frame_length % 2 == 0:
        x[..., -1, :] *= 0.5
    return np.sqrt(2 * np.sum(x, axis=-2, keepdims=True) / frame_length ** 2)


# ---------------------------------------------------------------- chroma
def chroma_filterbank(*, sr: float, n_fft: int, n_chroma: int = 12, tuning: float = 0.0, ctroct: float = 5.0,
                      octwidth: float | None = 2.0, base_c: bool = True) -> np.ndarray:
    """Ellis's chroma filters ``(n_chroma, 1 + n_fft // 2)``: Gaussian bumps per pitch class, weighted toward
    octave ``ctroct`` (a Gaussian ``octwidth`` octaves wide), columns L2-normalized, starting at C."""
    freqs = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(freqs / (a440 / 16))
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidth = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(n_chroma, dtype=float)).T
    half = np.round(n_chroma / 2)
    D = np.remainder(D + half + 10 * n_chroma, n_chroma) - half
    wts = np.exp(-0.5 * (2 * D / binwidth[None, :]) ** 2)
    norms = np.sqrt(np.sum(wts ** 2, axis=0, keepdims=True))
    wts = wts / np.where(norms < np.finfo(float).tiny, 1.0, norms)
    if octwidth is not None:
        wts *= np.exp(-0.5 * ((frqbins / n_chroma - ctroct) / octwidth) ** 2)[None, :]
    if base_c:
        wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : 1 + n_fft // 2], dtype=np.float32)


def chroma_stft(*, y=None, sr: float = 22050, S=None, n_fft: int = 2048, hop_length: int = 512,
                n_chroma: int = 12, tuning: float | None = 0.0, **kwargs) -> np.ndarray:
    """Chromagram ``(..., n_chroma, frames)`` from the power spectrum, each frame scaled to a maximum of 1.

    ``tuning=None`` estimates the tuning offset with librosa (imported only then)."""
    S, n_fft = spectrogram(y=y, S=S, n_fft=n_fft, hop_length=hop_length, power=2.0, **kwargs)
    if tuning is None:
        import librosa

        tuning = float(librosa.estimate_tuning(S=S, sr=sr, bins_per_octave=n_chroma))
    raw = np.einsum("cf,...ft->...ct", chroma_filterbank(sr=sr, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning),
                    S, optimize=True)
    peak = raw.max(axis=-2, keepdims=True)
    return raw / np.where(peak < np.finfo(raw.dtype).tiny, 1.0, peak)


# ---------------------------------------------------------------- f0
def yin(y: np.ndarray, *, fmin: float, fmax: float, sr: float = 22050, frame_length: int = 2048,
        hop_length: int | None = None, trough_threshold: float = 0.1, center: bool = True,
        pad_mode: str = "constant") -> np.ndarray:
    """Fundamental frequency in Hz per frame, ``(..., frames)``, by YIN.

    The smallest lag whose cumulative-mean-normalized difference dips below ``trough_threshold`` at a local
    minimum (else the global minimum), refined by parabolic interpolation.
    """
    if not 0 < fmin < fmax <= sr / 2:
        raise ParameterError(f"need 0 < fmin < fmax <= sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    y = np.asarray(y, dtype=float)
    hop_length = hop_length or frame_length // 4
    if center:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(frame_length // 2, frame_length // 2)], mode=pad_mode)
    frames = frame(y, frame_length=frame_length, hop_length=hop_length)  # (..., L, T)
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    if min_period < 1 or min_period >= max_period:
        raise ParameterError("fmin/fmax leave no period range to search; widen them or lengthen frame_length")
    # autocorrelation by FFT
    n_pad = 1 << int(np.ceil(np.log2(2 * frame_length - 1)))
    acf = np.fft.irfft(np.abs(np.fft.rfft(frames, n=n_pad, axis=-2)) ** 2, n=n_pad, axis=-2)[..., : max_period + 1, :]
    energy = np.cumsum(frames ** 2, axis=-2)
    diff = np.zeros_like(acf)
    diff[..., 1:, :] = 2 * (acf[..., :1, :] - acf[..., 1:, :]) - energy[..., :max_period, :]
    lags = np.arange(1, max_period + 1)[:, None]
    cmean = np.cumsum(diff[..., 1:, :], axis=-2) / lags
    d = diff[..., min_period: max_period + 1, :] / (cmean[..., min_period - 1: max_period, :] + np.finfo(float).tiny)
    # parabolic shifts (0 at the edges or when the vertex falls outside the neighbours)
    a = d[..., 2:, :] + d[..., :-2, :] - 2 * d[..., 1:-1, :]
    b = (d[..., 2:, :] - d[..., :-2, :]) / 2
    shifts = np.zeros_like(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[..., 1:-1, :] = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    # troughs: strictly below the left neighbour, not above the right one (last lag included)
    left = np.concatenate([d[..., :1, :], d[..., :-1, :]], axis=-2)
    right = np.concatenate([d[..., 1:, :], d[..., -1:, :]], axis=-2)
    trough = (d < left) & (d <= right)
    trough[..., 0, :] = d[..., 0, :] < d[..., 1, :]
    below = trough & (d < trough_threshold)
    period = np.where(below.any(axis=-2), np.argmax(below, axis=-2), np.argmin(d, axis=-2))
    shift = np.take_along_axis(shifts, period[..., None, :], axis=-2)[..., 0, :]
    return sr / (min_period + period + shift)


# ---------------------------------------------------------------- constant-Q
def cqt_frequencies(*, n_bins: int, fmin_hz: float, bins_per_octave: int = 12) -> np.ndarray:
    return fmin_hz * 2.0 ** (np.arange(n_bins) / bins_per_octave)


@functools.lru_cache(maxsize=8)
def _cqt_kernels(sr: float, fmin_hz: float, n_bins: int, bins_per_octave: int, filter_scale: float):
    """The CQT's sparse kernel spectra ``(n_bins, n_fft/2+1)`` and ``n_fft``: built once per setting."""
    freqs = cqt_frequencies(n_bins=n_bins, fmin_hz=fmin_hz, bins_per_octave=bins_per_octave)
    q = filter_scale / (2.0 ** (1.0 / bins_per_octave) - 1)
    lengths = np.ceil(q * sr / freqs).astype(int)
    n_fft = 1 << int(np.ceil(np.log2(lengths[0])))
    kernels = np.zeros((n_bins, n_fft), dtype=complex)
    for k, (f, n) in enumerate(zip(freqs, lengths)):
        win = np.hanning(n + 2)[1:-1]  # no zero end points: every sample of the kernel counts
        t = np.arange(n) - (n - 1) / 2
        start = (n_fft - n) // 2
        kernels[k, start:start + n] = win * np.exp(2j * np.pi * f * t / sr) / win.sum()
    spectra = np.conj(np.fft.fft(kernels, axis=1)[:, : n_fft // 2 + 1]) / n_fft  # correlation, via Parseval
    spectra[np.abs(spectra) < 0.005 * np.abs(spectra).max(axis=1, keepdims=True)] = 0
    return scipy.sparse.csr_matrix(spectra), n_fft


def cqt(y: np.ndarray, *, sr: float = 22050, hop_length: int = 512, fmin_hz: float = 32.70, n_bins: int = 84,
        bins_per_octave: int = 12, filter_scale: float = 1.0) -> np.ndarray:
    """Constant-Q magnitude ``(..., n_bins, frames)`` by Brown & Puckette's spectral kernels, frames centred.

    Bin ``k`` correlates the signal with a Hann-windowed complex exponential at ``fmin_hz·2**(k/bins_per_octave)``
    Hz, ``filter_scale·Q`` periods long (``Q = 1/(2**(1/bins_per_octave) − 1)``), divided by its window's sum, so
    a full-scale sine at a bin's frequency reads 0.5 there at every bin (librosa scales by ``√length`` instead; the
    peaks fall in the same bins).  Direct, not librosa's octave-by-octave downsampling: one FFT size, the
    longest kernel's; each kernel's spectrum keeps only its coefficients above 0.5 % of its peak (a sparse matrix,
    as librosa's kernels), and only the positive frequencies, where an analytic kernel lives.
    """
    freqs = cqt_frequencies(n_bins=n_bins, fmin_hz=fmin_hz, bins_per_octave=bins_per_octave)
    if n_bins < 1 or fmin_hz <= 0 or freqs[-1] >= sr / 2:
        raise ParameterError(f"the CQT's {n_bins} bins from {fmin_hz} Hz must lie in 0 < f < sr/2 = {sr / 2} Hz")
    spectra, n_fft = _cqt_kernels(float(sr), float(fmin_hz), n_bins, bins_per_octave, float(filter_scale))
    y = np.asarray(y, dtype=float)
    lead = y.shape[:-1]
    pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
    frames = frame(np.pad(y, pad), frame_length=n_fft, hop_length=hop_length)  # (..., n_fft, T)
    X = np.fft.rfft(frames, axis=-2).reshape(-1, n_fft // 2 + 1, frames.shape[-1])  # (B, n_fft/2+1, T)
    out = np.stack([np.abs(spectra @ x) for x in X])  # (B, n_bins, T)
    return out.reshape(*lead, n_bins, frames.shape[-1])
