"""instruments (TinySOL layout) and vowels: known f0, timbre facts, layouts, configs."""
import numpy as np
import pytest

from dl4mir.data.egfxset import midi_to_hz
from dl4mir.data.synth.instruments import INSTRUMENT_BY_ABBR, InstrumentsConfig, relpath_for, synthesize_note
from dl4mir.data.synth.vowels import VOWELS, VowelsConfig, synthesize_syllable
from dl4mir.errors import ConfigError

SR = 16000


def inst_note(abbr, midi, dyn="mf"):
    return synthesize_note(INSTRUMENT_BY_ABBR[abbr], midi, dyn, sr=SR, duration_s=1.5, rng=np.random.default_rng(0))


def harmonics(y, f0, n=8):
    seg = y[SR // 3: SR]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    f = np.fft.rfftfreq(len(seg), 1 / SR)
    return np.array([spec[(f > k * f0 - 15) & (f < k * f0 + 15)].max() for k in range(1, n + 1)])


@pytest.mark.parametrize("abbr,midi", [("Vn", 67), ("Va", 55), ("Vc", 43), ("Fl", 72), ("ClBb", 58), ("Ob", 70),
                                       ("TpC", 62), ("BTb", 40)])
def test_instrument_f0_is_the_written_pitch(abbr, midi):
    import librosa

    y = inst_note(abbr, midi)
    f0 = np.nanmedian(librosa.yin(y=y[SR // 2: SR], fmin=40, fmax=2000, sr=SR, frame_length=2048))
    assert abs(1200 * np.log2(f0 / midi_to_hz(midi))) < 30  # vibrato allowed


def test_clarinet_low_register_lacks_even_harmonics():
    h = harmonics(inst_note("ClBb", 55), midi_to_hz(55))
    assert np.linalg.norm(h[1::2]) < 0.3 * np.linalg.norm(h[2::2])
    o = harmonics(inst_note("Ob", 60), midi_to_hz(60))
    assert np.linalg.norm(o[1::2]) > 0.5 * np.linalg.norm(o[2::2])


def test_flute_is_nearly_sinusoidal_and_tuba_is_dark():
    fl = harmonics(inst_note("Fl", 72), midi_to_hz(72))
    assert fl[0] > 3 * np.max(fl[1:])
    def centroid(y):
        s = np.abs(np.fft.rfft(y)); f = np.fft.rfftfreq(len(y), 1 / SR)
        return (s * f).sum() / s.sum()
    assert centroid(inst_note("BTb", 45)) < 0.5 * centroid(inst_note("TpC", 64))


def test_dynamics_change_level_and_brightness():
    pp, ff = inst_note("TpC", 64, "pp"), inst_note("TpC", 64, "ff")
    assert np.std(ff) > 2.5 * np.std(pp)
    hp, hf = harmonics(pp, midi_to_hz(64)), harmonics(ff, midi_to_hz(64))
    assert hf[4] / hf[0] > 1.5 * hp[4] / hp[0]


def test_tinysol_file_names():
    assert relpath_for(INSTRUMENT_BY_ABBR["Vn"], 60, "mf") == "Strings/Violin/ordinario/Vn-ord-C4-mf-4c-N.wav"
    assert relpath_for(INSTRUMENT_BY_ABBR["Fl"], 69, "pp") == "Winds/Flute/ordinario/Fl-ord-A4-pp-N-N.wav"


def test_vowel_formants_show_in_the_spectrum():
    def f2_band(vowel):
        y, f0, onset = synthesize_syllable("spk00m", "m", "b", vowel, 0, sr=SR, duration_s=0.8, seed=0)
        seg = y[int((onset + 0.08) * SR): int((onset + 0.3) * SR)]
        spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
        f = np.fft.rfftfreq(len(seg), 1 / SR)
        return spec[(f > 1900) & (f < 2600)].sum() / spec[(f > 600) & (f < 1000)].sum()
    assert f2_band("i") > 10 * f2_band("u")  # /i/ has F2 ≈ 2.2 kHz, /u/ ≈ 850 Hz


def test_vowel_metadata_f0_matches_the_audio():
    import librosa

    y, f0, onset = synthesize_syllable("spk01f", "f", "m", "a", 0, sr=SR, duration_s=0.8, seed=0)
    seg = y[int((onset + 0.05) * SR): int((onset + 0.3) * SR)]
    est = np.nanmedian(librosa.yin(y=seg, fmin=70, fmax=500, sr=SR, frame_length=1024))
    assert abs(1200 * np.log2(est / f0)) < 60
    assert 150 < f0 < 300  # a female speaker's range


def test_configs_validate():
    with pytest.raises(ConfigError, match="unknown instrument 'Kazoo'"):
        InstrumentsConfig(instruments=("Kazoo",))
    with pytest.raises(ConfigError, match="n_speakers"):
        VowelsConfig(n_speakers=1)
    assert len(VOWELS) == 6
    assert len(VowelsConfig.profile("quick").speakers()) >= 7


def test_generated_instruments_read_through_mirdata(tmp_path):
    from dl4mir.data import get_dataset
    from dl4mir.data.synth.instruments import generate

    root = generate(tmp_path / "inst", InstrumentsConfig(instruments=("Vn", "BTb"), dynamics=("mf",), pitch_step=6,
                                                           duration_s=0.5), workers=1)
    ds = get_dataset(f"tinysol:{root}")
    assert {c.labels["instrument"] for c in ds.clips} == {"Violin", "Bass Tuba"}
    vn = next(c for c in ds.clips if c.labels["instrument"] == "Violin")
    assert vn.labels["family"] == "Strings" and vn.labels["string_id"] in (1, 2, 3, 4)
    assert vn.clip_id == vn.path.stem  # mirdata's TinySOL ids
    assert all(c.labels["fold"] in range(5) for c in ds.clips)
