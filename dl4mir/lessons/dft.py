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


def run(ctx) -> dict:
    rng = np.random.default_rng(ctx.seed)
    # the DFT as a matrix-vector product, against the FFT
    by_hand = {}
    for n in (64, 256, 1024):
        x = rng.standard_normal(n)
        err = float(np.max(np.abs(F.dft(x) - np.fft.fft(x))))
        t_dft, t_fft = _time(lambda: F.dft(x)), _time(lambda: np.fft.fft(x))
        by_hand[n] = {"max_abs_error": err, "dft_ms": 1e3 * t_dft, "fft_ms": 1e3 * t_fft, "fft_speedup": t_dft / t_fft}

    # a real note: open A string (string 5) through the clean channel
    ds = ctx.dataset(ctx.guitar)
    clip = next((c for c in ds.clips if c.labels["effect"] == "clean" and c.labels["string"] == 5
                 and c.labels["fret"] == 0), ds.clips[0])
    y, sr = clip.load()
    plots.waveform_and_spectrum(ctx.figure("note_dft", f"{clip.clip_id}: waveform and |DFT| with a Hz axis"),
                                y, sr, title=f"{clip.clip_id} ({clip.labels['note_name']})", max_hz=4000)
    # the strongest partial of a pickup signal is often not the fundamental; YIN finds the period
    f0_hz = float(np.median(F.yin(y[: sr], fmin=60, fmax=1500, sr=sr)))

    # aliasing: a 5 kHz tone sampled at 8 kHz shows up at 8 - 5 = 3 kHz
    fs, f_tone = 8000, 5000.0
    tone = np.sin(2 * np.pi * f_tone * np.arange(fs) / fs)
    alias_hz = float(np.fft.rfftfreq(fs, 1 / fs)[np.argmax(np.abs(np.fft.rfft(tone)))])
    plots.waveform_and_spectrum(ctx.figure("aliasing", "A 5 kHz sine sampled at 8 kHz appears at 3 kHz"),
                                tone[:200], fs, title="5 kHz tone sampled at 8 kHz (aliased)")

    # a spectrogram is a DFT per frame: the same numbers as framing + windowing + DFT by hand
    n_fft, hop = 512, 128
    S = F.stft(y, n_fft=n_fft, hop_length=hop)
    frames = F.frame(np.pad(y, n_fft // 2), frame_length=n_fft, hop_length=hop)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    k = 10
    manual = F.dft(frames[:, k] * window)[: n_fft // 2 + 1]
    stft_err = float(np.max(np.abs(manual - S[:, k])) / np.max(np.abs(S[:, k])))
    plots.image_panels(ctx.figure("spectrogram", "Log-magnitude spectrogram: one DFT per 32 ms frame"),
                       [("|STFT| (dB)", F.amplitude_to_db(np.abs(S), ref=float(np.abs(S).max())), "frequency bin")],
                       ncols=1)
    dims = {"samples_per_clip": int(len(y)), "sample_rate": int(sr), "stft_bins_x_frames": list(S.shape),
            "stft_values": int(S.size), "samples_per_minute_cd_quality": 44100 * 60 * 2}
    return {
        "headline": {"DFT by hand max error (n=1024)": by_hand[1024]["max_abs_error"],
                     "FFT speed-up at n=1024": by_hand[1024]["fft_speedup"],
                     "5 kHz tone at 8 kHz appears at (Hz)": alias_hz,
                     "note f0 by YIN (Hz)": f0_hz, "labelled f0 (Hz)": clip.labels.get("f0_hz"),
                     "STFT frame = DFT by hand (rel. error)": stft_err},
        "dft_by_hand": by_hand, "note": clip.clip_id, "dimensionality": dims,
        "answer": f"A {len(y) / sr:.1f} s clip is {len(y)} numbers; a minute of CD audio is over 5 million. "
                  "A spectrogram is the DFT of overlapping windowed frames: the same numbers, rearranged by frequency.",
    }
