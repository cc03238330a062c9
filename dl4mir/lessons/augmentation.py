"""Lesson 6a: raw-audio standardization and the augmentations, shown (spectrograms, WAVs) and measured."""
from __future__ import annotations

import numpy as np

from dl4mir import augment
from dl4mir.audio import standardize
from dl4mir.features import spectral as F
from dl4mir.report import plots


def run(ctx) -> dict:
    rng = np.random.default_rng(ctx.seed)
    vowels = ctx.dataset(ctx.vowels)
    clip = next(c for c in vowels.clips if c.labels["vowel"] == "a")
    y, sr = clip.load(sr=16000)
    y = y.astype(np.float64)
    versions = {
        "original": y,
        "noise 10 dB": augment.add_noise(y, snr_db=10, rng=rng),
        "noise bursts": augment.noise_bursts(y, sr=sr, n_bursts=4, snr_db=0, rng=rng),
        "pitch +3 semitones": augment.pitch_shift(y, sr=sr, semitones=3),
        "room IR (RT60 0.5 s)": augment.convolve_ir(y, augment.synthetic_ir(sr=sr, rt60_s=0.5, rng=rng)),
        "low-pass 1 kHz": augment.filter_audio(y, sr=sr, kind="lowpass", cutoff_hz=1000),
    }
    panels = []
    for i, (name, v) in enumerate(versions.items()):
        ctx.wav(f"aug_{i}", v, sr, f"{clip.clip_id}: {name}")
        panels.append((name, F.power_to_db(F.melspectrogram(y=v, sr=sr, n_fft=512, hop_length=128, n_mels=64)),
                       "mel band"))
    plots.image_panels(ctx.figure("augmentations", "Log-mel spectrograms of one syllable and its augmentations"),
                       panels, ncols=3)
    # measure what each one did
    noise = versions["noise 10 dB"] - y
    snr = 10 * np.log10(np.mean(y ** 2) / np.mean(noise ** 2))
    voiced = slice(int((clip.labels["vowel_onset_s"] + 0.05) * sr), int((clip.labels["vowel_onset_s"] + 0.3) * sr))
    f0 = lambda v: float(np.median(F.yin(v[voiced], fmin=70, fmax=800, sr=sr, frame_length=1024)))  # noqa: E731
    shift = 12 * np.log2(f0(versions["pitch +3 semitones"]) / f0(y))
    spec = lambda v: np.abs(np.fft.rfft(v))  # noqa: E731
    freqs = np.fft.rfftfreq(len(y), 1 / sr)
    band = (freqs > 2000) & (freqs < 4000)
    atten = 20 * np.log10(spec(versions["low-pass 1 kHz"])[band].mean() / spec(y)[band].mean())
    z = standardize(y)
    return {
        "headline": {"measured SNR (dB), asked 10": snr, "measured pitch shift (semitones), asked 3": shift,
                     "low-pass attenuation 2–4 kHz (dB)": atten,
                     "standardized: mean, peak": f"{z.mean():.1e}, {np.abs(z).max():.3f}"},
        "clip": clip.clip_id,
    }
