"""Rhythm features, librosa-style: onset strength and tempograms (autocorrelation and Fourier), the inputs the
course's tempo lesson compares (Morais et al., "Tempo vs. Pitch", ICASSP 2023).

Conventions (librosa 0.11's, checked against it in the tests):

* ``onset_strength``: log-power mel spectrogram (``power_to_db``, 80 dB range) → positive first difference over
  time (lag 1) → mean over mel bands → shifted right by ``1 + n_fft // (2·hop_length)`` frames so an onset is
  reported where it happens rather than where the centred frames first see it.
* ``tempogram``: the onset envelope, zero-ramp padded by ``win_length // 2`` at both ends, cut into
  ``win_length``-frame windows (Hann), autocorrelated; rows are lags in frames (row 0 = lag 0, i.e. ∞ BPM), each
  column scaled to a maximum of 1.
* ``tempo``: the mean autocorrelation tempogram over an 8 s window, weighted by a log-normal prior around 120 BPM
  (one octave of spread), maximised over lags below 320 BPM — librosa's ``feature.tempo``, the classic baseline.
* ``fourier_tempogram``: the STFT of the onset envelope with a ``win_length``-point Hann window and hop 1; rows are
  tempo frequencies ``k · 60·sr / (hop_length · win_length)`` BPM.

Arrays take leading batch axes like the rest of :mod:`dl4mir.features`: ``y`` is ``(..., n)``, envelopes
``(..., frames)``, tempograms ``(..., bins, frames)``.
"""
from __future__ import annotations

import numpy as np

from dl4mir.errors import ParameterError
from dl4mir.features import spectral as F

__all__ = ["onset_strength", "tempogram", "fourier_tempogram", "tempo_frequencies", "fourier_tempo_frequencies",
           "tempo"]


def onset_strength(*, y: np.ndarray | None = None, sr: float = 22050, S: np.ndarray | None = None,
                   n_fft: int = 2048, hop_length: int = 512, n_mels: int = 128, lag: int = 1) -> np.ndarray:
    """Spectral-flux onset envelope ``(..., frames)``: how much the log-mel spectrum rises from one frame to the
    next.  ``S``: a log-power (dB) spectrogram ``(..., bins, frames)`` to use instead of ``y``."""
    if lag < 1:
        raise ParameterError(f"lag must be at least 1 frame, got {lag}")
    if S is None:
        if y is None:
            raise ParameterError("onset_strength needs y= or S=")
        S = F.power_to_db(F.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels))
    S = np.asarray(S, dtype=np.float64)
    rise = np.maximum(0.0, S[..., lag:] - S[..., :-lag]).mean(axis=-2)  # (..., frames - lag)
    shift = lag + n_fft // (2 * hop_length)  # compensate the lag and the centred frames
    pad = [(0, 0)] * (rise.ndim - 1) + [(shift, 0)]
    return np.pad(rise, pad)[..., : S.shape[-1]]


def _envelope(y, sr, onset_envelope, hop_length) -> np.ndarray:
    if onset_envelope is None:
        if y is None:
            raise ParameterError("a tempogram needs y= or onset_envelope=")
        onset_envelope = onset_strength(y=y, sr=sr, hop_length=hop_length)
    return np.asarray(onset_envelope, dtype=np.float64)


def tempogram(*, y: np.ndarray | None = None, sr: float = 22050, onset_envelope: np.ndarray | None = None,
              hop_length: int = 512, win_length: int = 384) -> np.ndarray:
    """Autocorrelation tempogram ``(..., win_length, frames)``: for each frame, the windowed onset envelope's
    autocorrelation at lags 0 … ``win_length − 1`` frames, scaled to a maximum of 1 (all-zero columns stay 0)."""
    if win_length < 1:
        raise ParameterError(f"win_length must be a positive number of frames, got {win_length}")
    env = _envelope(y, sr, onset_envelope, hop_length)
    n = env.shape[-1]
    half = win_length // 2
    env = np.pad(env, [(0, 0)] * (env.ndim - 1) + [(half, half)], mode="linear_ramp", end_values=0)
    if env.shape[-1] < win_length:
        env = np.pad(env, [(0, 0)] * (env.ndim - 1) + [(0, win_length - env.shape[-1])])
    frames = F.frame(env, frame_length=win_length, hop_length=1)[..., :n]  # (..., win_length, n)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)  # periodic Hann
    x = frames * window[:, None]
    n_fft = 2 * win_length  # ≥ 2·win_length − 1: the circular autocorrelation equals the linear one
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, n=n_fft, axis=-2)) ** 2, n=n_fft, axis=-2)[..., :win_length, :]
    peak = np.abs(ac).max(axis=-2, keepdims=True)
    return ac / np.where(peak > np.finfo(ac.dtype).tiny, peak, 1.0)


def fourier_tempogram(*, y: np.ndarray | None = None, sr: float = 22050, onset_envelope: np.ndarray | None = None,
                      hop_length: int = 512, win_length: int = 384) -> np.ndarray:
    """Fourier tempogram ``(..., 1 + win_length // 2, frames)``, complex: the STFT of the onset envelope, whose
    magnitude peaks at the tempo's frequency (``fourier_tempo_frequencies``)."""
    if win_length < 2:
        raise ParameterError(f"win_length must be at least 2 frames, got {win_length}")
    return F.stft(_envelope(y, sr, onset_envelope, hop_length), n_fft=win_length, hop_length=1)


def tempo_frequencies(n_bins: int, *, hop_length: int = 512, sr: float = 22050) -> np.ndarray:
    """BPM of each row of :func:`tempogram`: ``60·sr / (hop_length · lag)``, row 0 (lag 0) is ∞."""
    lags = np.arange(n_bins, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(lags > 0, 60.0 * sr / (hop_length * np.maximum(lags, 1)), np.inf)


def fourier_tempo_frequencies(*, sr: float = 22050, win_length: int = 384, hop_length: int = 512) -> np.ndarray:
    """BPM of each row of :func:`fourier_tempogram`."""
    return F.fft_frequencies(sr=sr * 60 / hop_length, n_fft=win_length)


def tempo(*, y: np.ndarray | None = None, sr: float = 22050, onset_envelope: np.ndarray | None = None,
          hop_length: int = 512, start_bpm: float = 120.0, std_bpm: float = 1.0, ac_size_s: float = 8.0,
          max_tempo: float | None = 320.0) -> np.ndarray:
    """One global tempo estimate in BPM per signal, ``(...,)``: the lag of the strongest mean autocorrelation
    after weighting by a log-normal prior centred on ``start_bpm`` with ``std_bpm`` octaves of spread."""
    if start_bpm <= 0 or std_bpm <= 0:
        raise ParameterError(f"start_bpm and std_bpm must be positive, got {start_bpm} and {std_bpm}")
    win_length = int(np.floor(ac_size_s * sr / hop_length))
    tg = tempogram(y=y, sr=sr, onset_envelope=onset_envelope, hop_length=hop_length, win_length=win_length)
    mean = tg.mean(axis=-1)  # (..., win_length)
    bpms = tempo_frequencies(win_length, hop_length=hop_length, sr=sr)
    with np.errstate(divide="ignore"):
        log_prior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    if max_tempo is not None:
        log_prior[: int(np.argmax(bpms < max_tempo))] = -np.inf
    return bpms[np.argmax(np.log1p(1e6 * mean) + log_prior, axis=-1)]
