"""The ``rhythms`` dataset: its tempo labels are what the audio says, its beats and meter agree with them, and it is
read through the GTZAN reader like real GTZAN tempo annotations."""
import numpy as np
import pytest

from dl4mir.data import get_dataset
from dl4mir.data.synth.rhythms import STYLES, RhythmsConfig, generate
from dl4mir.errors import ConfigError, DatasetError
from dl4mir.features import rhythm as R


@pytest.fixture(scope="module")
def rhythms(_dl4mir_home):
    return get_dataset("rhythms", profile="quick")


def _lag_rank(tg: np.ndarray, bpm: float, sr: int) -> float:
    """Share of the lags between 30 and 300 BPM whose autocorrelation is below the one at ``bpm``'s beat period."""
    def score(lag):
        k = int(round(lag))
        return tg[max(k - 1, 1):k + 2].max()  # one lag frame is 23 ms: the nearest lags
    lags = np.arange(int(60 * sr / (512 * 300)), int(60 * sr / (512 * 30)))
    values = np.array([score(lag) for lag in lags])
    return float(np.mean(values < score(60 * sr / (512 * bpm))))


def test_every_tempo_label_is_a_period_the_audio_repeats_at(rhythms):
    """The labelled beat period is among the strongest lags of each clip's autocorrelation tempogram; tempi drawn
    at random are not (the control shows the test can fail)."""
    rng = np.random.default_rng(0)
    ranks, control = [], []
    for clip in rhythms.clips:
        y, sr = clip.load()
        tg = R.tempogram(y=y, sr=sr).mean(axis=-1)
        ranks.append(_lag_rank(tg, clip.labels["tempo_bpm"], sr))
        control.append(_lag_rank(tg, float(np.exp(rng.uniform(np.log(40), np.log(240)))), sr))
    assert min(ranks) >= 0.85 and np.mean(ranks) >= 0.9, ranks
    assert np.mean(control) < 0.75, control


def test_beats_and_meter_agree_with_the_tempo(rhythms):
    from mirdata.datasets.gtzan_genre import load_beats

    styles = set()
    for clip in rhythms.clips:
        styles.add(clip.labels["genre"])
        beats = load_beats(str(clip.path.parents[3] / "gtzan_tempo_beat-main" / "beats"
                               / f"gtzan_{clip.clip_id.replace('.', '_')}.beats"))
        np.testing.assert_allclose(np.diff(beats.times), 60 / clip.labels["tempo_bpm"], atol=1e-3)
        assert clip.labels["meter"] == (3 if clip.labels["genre"] == "waltz" else 4)
        assert set(beats.positions) == set(range(1, clip.labels["meter"] + 1))
        assert 40 <= clip.labels["tempo_bpm"] <= 240
    assert styles == set(STYLES)
    assert rhythms.validate().ok


def test_tempo_distributions(tmp_path):
    uniform = RhythmsConfig(styles=("rock",), clips_per_style=40, duration_s=3.0)
    gtzan = RhythmsConfig(styles=("rock",), clips_per_style=40, duration_s=3.0, tempo_distribution="gtzan")
    tempi = {}
    for name, cfg in (("uniform", uniform), ("gtzan", gtzan)):
        ds = get_dataset(f"gtzan:{generate(tmp_path / name, cfg, workers=1)}")
        tempi[name] = np.log2([c.labels["tempo_bpm"] for c in ds.clips])
    assert tempi["uniform"].std() > 1.5 * tempi["gtzan"].std()  # log-uniform over 2.6 octaves vs ±0.36 octave
    assert abs(2 ** np.median(tempi["gtzan"]) - 115) < 20
    # the registered variant: the same grooves with GTZAN's distribution, in its own cache folder
    from dl4mir.data.registry import synthetic_config, synthetic_root

    variant = synthetic_config("rhythms-gtzan", "quick")
    assert variant.tempo_distribution == "gtzan"
    assert variant == synthetic_config("rhythms", "quick", tempo_distribution="gtzan")
    assert synthetic_root("rhythms-gtzan", variant) != synthetic_root("rhythms", synthetic_config("rhythms", "quick"))


def test_bad_configs_and_annotations_are_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown style 'polka'"):
        RhythmsConfig(styles=("polka",))
    with pytest.raises(ConfigError, match="tempo_distribution"):
        RhythmsConfig(tempo_distribution="flat")
    root = generate(tmp_path / "r", RhythmsConfig(styles=("rock",), clips_per_style=1, duration_s=3.0), workers=1)
    bpm = root / "gtzan_tempo_beat-main" / "tempo" / "gtzan_rock_00000.bpm"
    bpm.write_text("fast\n")
    with pytest.raises(DatasetError, match="gtzan_rock_00000.bpm: not a tempo file"):
        get_dataset(f"gtzan:{root}").clips


def test_tempo_command_reads_files_and_lists_failures(rhythms, tmp_path, capsys):
    import json

    from dl4mir.cli import main
    from dl4mir.metrics import tempo_accuracy

    clips = rhythms.clips
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF")
    assert main(["tempo", "--json", *[str(c.path) for c in clips], str(bad)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["failures"][0]["file"] == str(bad)
    est = [out["tempo_bpm"][str(c.path)] for c in clips]
    acc = tempo_accuracy([c.labels["tempo_bpm"] for c in clips], est)
    assert acc["acc2"] >= 0.8, acc  # the classic estimator up to octave errors (quick profile: Acc1 0.36, Acc2 0.93)
