"""Lesson 1: digital audio and the DFT — sampling, aliasing, the DFT by hand, and how big audio is."""
from __future__ import annotations

import time

import numpy as np

from dl4mir.features import spectral as F
from dl4mir.report import plots


def _time(fn, repeats=3):
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


HEADLINE = {"dft_max_error_n1024": "DFT by hand: max error against the FFT (n = 1024)",
            "fft_speedup_n1024": "FFT speed-up over the DFT matrix (n = 1024)",
            "alias_hz": "a 5 kHz tone sampled at 8 kHz appears at (Hz)",
            "note_f0_yin_hz": "the note's f0 by YIN (Hz)", "note_f0_label_hz": "its labelled f0 (Hz)",
            "stft_frame_rel_error": "one STFT frame against framing + window + DFT by hand (relative error)"}


def dft_by_hand(sizes=(64, 256, 1024), *, seed: int = 0) -> dict:
    """The DFT as a matrix-vector product against ``np.fft.fft``: error and time per size."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in sizes:
        x = rng.standard_normal(n)
        err = float(np.max(np.abs(F.dft(x) - np.fft.fft(x))))
        t_dft, t_fft = _time(lambda: F.dft(x)), _time(lambda: np.fft.fft(x))
        out[n] = {"max_abs_error": err, "dft_ms": 1e3 * t_dft, "fft_ms": 1e3 * t_fft, "fft_speedup": t_dft / t_fft}
    return out


def open_a_string(ds):
    """The course's example note: the open A string (string 5) through the clean channel."""
    return next((c for c in ds.clips if c.labels["effect"] == "clean" and c.labels["string"] == 5
                 and c.labels["fret"] == 0), ds.clips[0])


def alias(*, fs: int = 8000, f_tone: float = 5000.0) -> tuple[np.ndarray, float]:
    """A sine above Nyquist and the frequency where its spectrum peaks: ``fs - f_tone`` for ``fs/2 < f < fs``."""
    tone = np.sin(2 * np.pi * f_tone * np.arange(fs) / fs)
    return tone, float(np.fft.rfftfreq(fs, 1 / fs)[np.argmax(np.abs(np.fft.rfft(tone)))])


def stft_frame_by_hand(y, *, n_fft: int = 512, hop: int = 128, frame: int = 10) -> tuple[np.ndarray, float]:
    """The STFT, and the relative error between its frame ``frame`` and framing + Hann window + DFT by hand."""
    S = F.stft(y, n_fft=n_fft, hop_length=hop)
    frames = F.frame(np.pad(y, n_fft // 2), frame_length=n_fft, hop_length=hop)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    manual = F.dft(frames[:, frame] * window)[: n_fft // 2 + 1]
    return S, float(np.max(np.abs(manual - S[:, frame])) / np.max(np.abs(S[:, frame])))


def run(ctx) -> dict:
    by_hand = dft_by_hand(seed=ctx.seed)
    clip = open_a_string(ctx.dataset(ctx.guitar))
    y, sr = clip.load()
    plots.waveform_and_spectrum(ctx.figure("note_dft", f"{clip.clip_id}: waveform and |DFT| with a Hz axis"),
                                y, sr, title=f"{clip.clip_id} ({clip.labels['note_name']})", max_hz=4000)
    ctx.wav("note", y, sr, f"{clip.clip_id}: the note the figures analyse")
    # the strongest partial of a pickup signal is often not the fundamental; YIN finds the period
    f0_hz = float(np.median(F.yin(y[: sr], fmin=60, fmax=1500, sr=sr)))
    tone, alias_hz = alias()
    plots.waveform_and_spectrum(ctx.figure("aliasing", "A 5 kHz sine sampled at 8 kHz appears at 3 kHz"),
                                tone[:200], 8000, title="5 kHz tone sampled at 8 kHz (aliased)")
    ctx.wav("aliased_tone", 0.3 * tone, 8000, "A 5 kHz sine sampled at 8 kHz: what you hear is 3 kHz")
    S, stft_err = stft_frame_by_hand(y)
    plots.image_panels(ctx.figure("spectrogram", "Log-magnitude spectrogram: one DFT per 32 ms frame"),
                       [("|STFT| (dB)", F.amplitude_to_db(np.abs(S), ref=float(np.abs(S).max())), "frequency (Hz)")],
                       ncols=1, extent=(0.0, len(y) / sr, 0.0, sr / 2))
    dims = {"samples_per_clip": int(len(y)), "sample_rate": int(sr), "stft_bins_x_frames": list(S.shape),
            "stft_values": int(S.size), "samples_per_minute_cd_quality": 44100 * 60 * 2}
    return {
        "headline": {"dft_max_error_n1024": by_hand[1024]["max_abs_error"],
                     "fft_speedup_n1024": by_hand[1024]["fft_speedup"], "alias_hz": alias_hz,
                     "note_f0_yin_hz": f0_hz, "note_f0_label_hz": clip.labels.get("f0_hz"),
                     "stft_frame_rel_error": stft_err},
        "dft_by_hand": by_hand, "note": clip.clip_id, "dimensionality": dims,
        "answer": answer(by_hand, dims, alias_hz, stft_err, duration_s=len(y) / sr),
    }


def answer(by_hand: dict, dims: dict, alias_hz: float, stft_err: float, *, duration_s: float) -> str:
    n = max(by_hand)
    exact = by_hand[n]["max_abs_error"] < 1e-6 and stft_err < 1e-6
    return (f"A {duration_s:.1f} s clip is {dims['samples_per_clip']:,} numbers; a minute of CD audio is "
            f"{dims['samples_per_minute_cd_quality']:,}: audio is big. "
            + (f"The DFT by hand equals the FFT (max error {by_hand[n]['max_abs_error']:.1e} at n = {n}), which is "
               f"{by_hand[n]['fft_speedup']:.0f}× faster, and "
               if by_hand[n]["max_abs_error"] < 1e-6 else
               f"In this run the DFT by hand differs from the FFT by {by_hand[n]['max_abs_error']:.1e}, and ")
            + ("a spectrogram frame is exactly a windowed frame's DFT" if exact else
               f"a spectrogram frame differs from the windowed frame's DFT by {stft_err:.1e}")
            + f". A 5 kHz tone sampled at 8 kHz was found at {alias_hz:.0f} Hz"
            + (" (aliased to 8 − 5 kHz, as the sampling theorem predicts)." if abs(alias_hz - 3000) < 1 else
               ", not at the 3 kHz the sampling theorem predicts.")
            )
