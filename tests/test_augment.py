"""Augmentations do what they say, measured."""
import numpy as np
import pytest

from dl4mir import augment
from dl4mir.features import spectral as F

SR = 16000


def tone(f=220.0, dur=1.0):
    t = np.arange(int(SR * dur)) / SR
    return 0.5 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 2 * f * t)


def test_add_noise_hits_the_snr():
    y = tone()
    noise = augment.add_noise(y, snr_db=12.0, rng=np.random.default_rng(0)) - y
    assert 10 * np.log10(np.mean(y ** 2) / np.mean(noise ** 2)) == pytest.approx(12.0, abs=0.2)
    assert np.array_equal(augment.add_noise(np.zeros(10), snr_db=5, rng=np.random.default_rng(0)), np.zeros(10))


def test_pitch_shift_moves_f0_and_keeps_length():
    y = tone(220.0)
    up = augment.pitch_shift(y, sr=SR, semitones=2.0)
    assert len(up) == len(y)
    f0 = np.median(F.yin(up[2000:-2000], fmin=100, fmax=600, sr=SR, frame_length=1024))
    assert 12 * np.log2(f0 / 220.0) == pytest.approx(2.0, abs=0.1)


def test_filters_attenuate_above_the_cutoff():
    noise = np.random.default_rng(0).standard_normal(SR)
    lp = augment.filter_audio(noise, sr=SR, kind="lowpass", cutoff_hz=1000)
    spec = lambda v: np.abs(np.fft.rfft(v))  # noqa: E731
    f = np.fft.rfftfreq(SR, 1 / SR)
    ratio = spec(lp)[(f > 3000) & (f < 6000)].mean() / spec(noise)[(f > 3000) & (f < 6000)].mean()
    assert 20 * np.log10(ratio) < -30  # 4th-order Butterworth: ~-24 dB/octave
    with pytest.raises(ValueError):
        augment.filter_audio(noise, sr=SR, kind="notch", cutoff_hz=100)


def test_room_ir_decays_and_convolution_keeps_level():
    ir = augment.synthetic_ir(sr=SR, rt60_s=0.5, rng=np.random.default_rng(0))
    assert len(ir) == 8000 and np.isclose(np.sum(ir ** 2), 1.0)
    early, late = np.mean(ir[1:800] ** 2), np.mean(ir[-800:] ** 2)
    assert 10 * np.log10(late / early) < -40
    y = tone()
    wet = augment.convolve_ir(y, ir)
    assert len(wet) == len(y) and np.isclose(np.mean(wet ** 2), np.mean(y ** 2))


def test_bursts_and_random_chain_are_seeded():
    y = tone()
    b = augment.noise_bursts(y, sr=SR, n_bursts=2, burst_s=0.01, rng=np.random.default_rng(1))
    changed = np.flatnonzero(np.abs(b - y) > 1e-12)
    assert 0 < len(changed) <= 2 * 160
    a1 = augment.random_augment(y, sr=SR, rng=np.random.default_rng(5))
    a2 = augment.random_augment(y, sr=SR, rng=np.random.default_rng(5))
    assert np.array_equal(a1, a2) and a1.shape == y.shape
