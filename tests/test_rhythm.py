"""Rhythm features: the tempo of a click track is where the tempograms say, and parity with librosa 0.11 (called
with keywords).  Tolerances: onset strength ≤ 1e-5 relative (float32 mel power through dB), tempograms ≤ 1e-6."""
import numpy as np
import pytest

from dl4mir.errors import ParameterError
from dl4mir.features import rhythm as R

SR = 22050


def clicks(bpm: float, seconds: float = 20.0, seed: int = 0) -> np.ndarray:
    """Short 1.5 kHz bursts every beat over a faint noise floor."""
    rng = np.random.default_rng(seed)
    y = 0.01 * rng.standard_normal(int(SR * seconds))
    burst = np.hanning(200) * np.sin(2 * np.pi * 1500 * np.arange(200) / SR)
    for t in np.arange(0.1, seconds - 0.1, 60.0 / bpm):
        y[int(t * SR):int(t * SR) + 200] += burst
    return y.astype(np.float32)


@pytest.mark.parametrize("bpm", [72.0, 120.0, 171.0])
def test_tempograms_peak_at_the_click_tempo(bpm):
    y = clicks(bpm)
    ac = R.tempogram(y=y, sr=SR).mean(axis=-1)
    lag_bpm = R.tempo_frequencies(len(ac), sr=SR)
    in_range = (lag_bpm >= 40) & (lag_bpm <= 240)
    best = lag_bpm[in_range][np.argmax(ac[in_range])]
    # one lag frame is 23 ms: the nearest lag's tempo, or a whole multiple/fraction of the beat (2x, 1/2)
    assert min(abs(np.log2(best / (bpm * r))) for r in (1, 2, 0.5)) < 0.05, best
    ft = np.abs(R.fourier_tempogram(y=y, sr=SR)).mean(axis=-1)
    f_bpm = R.fourier_tempo_frequencies(sr=SR)
    in_range = (f_bpm >= 40) & (f_bpm <= 240)
    best = f_bpm[in_range][np.argmax(ft[in_range])]
    step = f_bpm[1] - f_bpm[0]  # 6.7 BPM per Fourier bin
    # a click train has every harmonic of the beat frequency: the Fourier tempogram's peak is the tempo or a
    # multiple of it (where the autocorrelation's favours sub-multiples) — the contrast the tempo lesson studies
    assert min(abs(best - bpm * r) for r in (1, 2, 3)) <= step, best
    at_tempo = ft[np.argmin(np.abs(f_bpm - bpm))]
    assert at_tempo > 5 * np.median(ft[in_range])


def test_onset_strength_peaks_at_the_clicks():
    y = clicks(100.0, seconds=6.0)
    env = R.onset_strength(y=y, sr=SR)
    frame_s = 512 / SR
    beats = np.arange(0.1, 5.9, 0.6)
    peaks = np.flatnonzero(env > 0.5 * env.max()) * frame_s
    assert all(np.min(np.abs(peaks - b)) < 2 * frame_s for b in beats)  # every click is found where it is


def test_parity_with_librosa_and_batch_axes():
    librosa = pytest.importorskip("librosa")
    batch = np.stack([clicks(90.0, 8.0, seed=1), clicks(150.0, 8.0, seed=2)])
    env = R.onset_strength(y=batch, sr=SR)
    for i, y in enumerate(batch):
        ref = librosa.onset.onset_strength(y=y, sr=SR)
        assert np.max(np.abs(env[i] - ref)) / ref.max() < 1e-5
        np.testing.assert_allclose(R.tempogram(onset_envelope=ref, sr=SR),
                                   librosa.feature.tempogram(onset_envelope=ref, sr=SR), atol=1e-6)
        long = np.tile(ref, 2)  # the Fourier tempogram's 384-frame window wants more than 8 s
        np.testing.assert_allclose(R.fourier_tempogram(onset_envelope=long, sr=SR),
                                   librosa.feature.fourier_tempogram(onset_envelope=long, sr=SR), atol=1e-6)
    np.testing.assert_allclose(R.tempo_frequencies(384, sr=SR)[1:], librosa.tempo_frequencies(384, sr=SR)[1:])
    np.testing.assert_allclose(R.fourier_tempo_frequencies(sr=SR), librosa.fourier_tempo_frequencies(sr=SR))


def test_bad_arguments_are_parameter_errors():
    with pytest.raises(ParameterError, match="needs y= or S="):
        R.onset_strength()
    with pytest.raises(ParameterError, match="y= or onset_envelope="):
        R.tempogram()
    with pytest.raises(ParameterError, match="win_length"):
        R.tempogram(onset_envelope=np.ones(100), win_length=0)
    with pytest.raises(ParameterError, match="lag"):
        R.onset_strength(y=clicks(120.0, 1.0), lag=0)


def test_tempo_estimate_is_librosas_and_finds_clicks():
    librosa = pytest.importorskip("librosa")
    for bpm in (60.0, 75.0, 90.0, 100.0, 150.0, 180.0):
        y = clicks(bpm, seconds=12.0)
        ours = R.tempo(y=y, sr=SR)
        assert ours.shape == () and ours == pytest.approx(float(librosa.feature.tempo(y=y, sr=SR)[0]), rel=1e-9)
        if 85 <= bpm <= 160:  # near the 120 BPM prior it finds the clicks; far from it, octave and 3:2 errors —
            assert abs(np.log2(ours / bpm)) < 0.04  # librosa's too (measured: 60 → 123, 75 → 129, 180 → 89)
    batch = np.stack([clicks(75.0, 12.0), clicks(128.0, 12.0)])
    assert R.tempo(y=batch, sr=SR).shape == (2,)


def test_tempo_accuracy_matches_mir_eval():
    mir_eval = pytest.importorskip("mir_eval")
    from dl4mir.metrics import tempo_accuracy

    rng = np.random.default_rng(0)
    ref = np.exp(rng.uniform(np.log(40), np.log(240), 200))
    est = ref * rng.choice([1.0, 1.03, 1.06, 2.0, 0.5, 3.0, 1 / 3, 1.5], size=200)
    acc = tempo_accuracy(ref, est)
    one = [mir_eval.tempo.detection(np.array([r, r]), 0.5, np.array([e, e]), tol=0.04)[1] for r, e in zip(ref, est)]
    assert acc["acc1"] == pytest.approx(np.mean(one))
    two = [max(mir_eval.tempo.detection(np.array([r * f, r * f]), 0.5, np.array([e, e]), tol=0.04)[1]
               for f in (1, 2, 3, 0.5, 1 / 3)) for r, e in zip(ref, est)]
    assert acc["acc2"] == pytest.approx(np.mean(two))
    assert acc["acc2"] > acc["acc1"]  # the ×1.5 and 1.06 errors stay errors; octaves become hits
    with pytest.raises(Exception, match="same non-empty shape"):
        tempo_accuracy([120.0], [])


def test_madmom_finds_the_click_tempo_alone_and_batched_and_names_bad_audio():
    from dl4mir.features.madmom_tempo import madmom_tempi, madmom_tempo

    y = clicks(128.0, seconds=8.0)
    assert abs(np.log2(madmom_tempo(y=y, sr=SR) / 128.0)) < 0.04  # the issue measured 127.7 on a 128 BPM click track
    tempi = madmom_tempi([y, clicks(90.0, seconds=8.0)], sr=SR)
    assert tempi[0] == pytest.approx(madmom_tempo(y=y, sr=SR)) and abs(np.log2(tempi[1] / 90.0)) < 0.04
    with pytest.raises(ParameterError, match="at least 1 s"):
        madmom_tempo(y=y[:1000], sr=SR)
    with pytest.raises(ParameterError, match="NaN"):
        madmom_tempo(y=np.full(SR * 2, np.nan, dtype=np.float32), sr=SR)


def test_madmom_networks_run_batched_give_madmoms_own_activations_and_tempi():
    """dl4mir computes madmom's pre-processing and evaluates its eight trained BLSTMs batched; madmom's own
    (per-frame) processors are the oracle: features and activations within float32 rounding, the same tempo, clips
    of different lengths batched apart."""
    import madmom

    from dl4mir.audio import resample
    from dl4mir.features.madmom_tempo import (SAMPLE_RATE, beat_activations, beat_processor, features,
                                             madmom_tempi, tempo_processor)

    ys = [clicks(b, seconds=s, seed=k) for k, (b, s) in enumerate([(76.0, 4.0), (133.0, 4.0), (101.0, 5.0)])]
    beats, tempo = beat_processor(), tempo_processor(40.0, 250.0)
    signals = [madmom.audio.signal.Signal(
        resample(y, orig_sr=SR, target_sr=SAMPLE_RATE).astype(np.float32), sample_rate=SAMPLE_RATE, num_channels=1) for y in ys]
    inputs = [features(y=y, sr=SR) for y in ys[:2]]  # before madmom's own run: its filterbank built here
    own = [beats(s) for s in signals]
    for mine, s in zip(inputs, signals):
        np.testing.assert_allclose(mine, beats.processors[0](s), atol=1e-5)
        np.testing.assert_array_equal(features(y=s, sr=SAMPLE_RATE), mine)  # after: madmom's cached filterbank
    batched = beat_activations(np.stack(inputs), batch_size=1)
    for mine, theirs in zip(batched, own[:2]):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    np.testing.assert_allclose(madmom_tempi(ys, sr=SR), [tempo(a)[0, 0] for a in own])

