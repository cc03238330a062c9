"""Lesson 6a: raw-audio standardization and the augmentations, shown (spectrograms, WAVs) and measured."""
from __future__ import annotations

import numpy as np

from dl4mir import augment
from dl4mir.audio import standardize
from dl4mir.features import spectral as F
from dl4mir.report import plots


HEADLINE = {"snr_db": "measured SNR of 'noise 10 dB' (dB)",
            "pitch_shift_semitones": "measured pitch shift of 'pitch +3 semitones' (semitones)",
            "lowpass_attenuation_db": "attenuation of 'low-pass 1 kHz' between 2 and 4 kHz (dB)",
            "standardized_mean": "standardized syllable: mean", "standardized_peak": "standardized syllable: peak"}


def augmented_versions(y: np.ndarray, sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One syllable and one draw of each augmentation the softmax lesson trains with."""
    return {
        "original": y,
        "noise 10 dB": augment.add_noise(y, snr_db=10, rng=rng),
        "noise bursts": augment.noise_bursts(y, sr=sr, n_bursts=4, snr_db=0, rng=rng),
        "pitch +3 semitones": augment.pitch_shift(y, sr=sr, semitones=3),
        "room IR (RT60 0.5 s)": augment.convolve_ir(y, augment.synthetic_ir(sr=sr, rt60_s=0.5, rng=rng)),
        "low-pass 1 kHz": augment.filter_audio(y, sr=sr, kind="lowpass", cutoff_hz=1000),
    }


def measure(versions: dict, sr: int, vowel_onset_s: float) -> dict:
    """What each augmentation did, in physical units: SNR, pitch shift (YIN on the vowel), low-pass attenuation."""
    y = versions["original"]
    noise = versions["noise 10 dB"] - y
    voiced = slice(int((vowel_onset_s + 0.05) * sr), int((vowel_onset_s + 0.3) * sr))
    f0 = lambda v: float(np.median(F.yin(v[voiced], fmin=70, fmax=800, sr=sr, frame_length=1024)))  # noqa: E731
    spec = lambda v: np.abs(np.fft.rfft(v))  # noqa: E731
    freqs = np.fft.rfftfreq(len(y), 1 / sr)
    band = (freqs > 2000) & (freqs < 4000)
    return {"snr_db": 10 * np.log10(np.mean(y ** 2) / np.mean(noise ** 2)),
            "pitch_shift_semitones": 12 * np.log2(f0(versions["pitch +3 semitones"]) / f0(y)),
            "lowpass_attenuation_db": 20 * np.log10(spec(versions["low-pass 1 kHz"])[band].mean() / spec(y)[band].mean())}


def run(ctx) -> dict:
    rng = np.random.default_rng(ctx.seed)
    clip = next(c for c in ctx.dataset(ctx.vowels).clips if c.labels["vowel"] == "a")
    y, sr = clip.load(sr=16000)
    versions = augmented_versions(y.astype(np.float64), sr, rng)
    panels = []
    for i, (name, v) in enumerate(versions.items()):
        ctx.wav(f"aug_{i}", v, sr, f"{clip.clip_id}: {name}")
        panels.append((name, F.power_to_db(F.melspectrogram(y=v, sr=sr, n_fft=512, hop_length=128, n_mels=64)),
                       "mel band"))
    plots.image_panels(ctx.figure("augmentations", "Log-mel spectrograms of one syllable and its augmentations"),
                       panels, ncols=3)
    measured = measure(versions, sr, clip.labels["vowel_onset_s"])
    z = standardize(versions["original"])
    return {
        "headline": {**measured, "standardized_mean": float(z.mean()), "standardized_peak": float(np.abs(z).max())},
        "clip": clip.clip_id, "answer": answer(measured),
    }


def answer(m: dict) -> str:
    checks = [("noise asked at 10 dB SNR", m["snr_db"], 10.0, 0.5, "dB"),
              ("pitch shift asked at +3 semitones", m["pitch_shift_semitones"], 3.0, 0.2, "semitones")]
    parts = [f"{name}: measured {value:.2f} {unit} ({'as asked' if abs(value - want) <= tol else 'NOT as asked'})"
             for name, value, want, tol, unit in checks]
    lp = m["lowpass_attenuation_db"]
    parts.append(f"the 1 kHz low-pass removes {-lp:.0f} dB between 2 and 4 kHz"
                 + ("" if lp < -20 else " (less than a 4th-order filter should)"))
    return "Each augmentation changes the sound by what it says: " + "; ".join(parts) + "."
