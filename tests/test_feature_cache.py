"""The feature cache: keyed by audio checksum + parameters, incremental, resumable, shardable, failures reported."""
import pytest

from dl4mir.data import get_dataset
from dl4mir.errors import ConfigError, Dl4mirError
from dl4mir.features.cache import FeatureSpec, cache_dir, extract, load_table


def test_spec_parsing_and_errors():
    s = FeatureSpec.parse("logmel:n_mels=32,sr=8000,duration_s=0.5,fmax=none")
    assert (s.name, s.sr, s.duration_s, s.kwargs["n_mels"], s.kwargs["fmax"]) == ("logmel", 8000, 0.5, 32, None)
    assert FeatureSpec.parse(str(s)) == s
    assert s.key() != FeatureSpec.parse("logmel:n_mels=33,sr=8000,duration_s=0.5").key()
    for bad, match in [("wavelet", "unknown feature"), ("mfcc:n_mfc=3", "no parameter"), ("mfcc:n_mfcc", "key=value"),
                       ("mfcc:sr=0", "positive")]:
        with pytest.raises(ConfigError, match=match):
            FeatureSpec.parse(bad)


def _copy_dataset(tiny_guitar_fx):
    return get_dataset(f"egfxset:{tiny_guitar_fx}")


def test_incremental_and_cached(tiny_guitar_fx):
    ds = _copy_dataset(tiny_guitar_fx)
    spec = FeatureSpec.parse("mfcc:n_mfcc=8,duration_s=0.3")
    first = extract(ds, spec)
    assert (first.computed, first.cached, first.failures) == (6, 0, [])
    second = extract(ds, spec)
    assert (second.computed, second.cached) == (0, 6)
    # change one file's audio: only it is recomputed
    import soundfile as sf

    p = tiny_guitar_fx / "RAT/Bridge/1-0.wav"
    y, sr = sf.read(p)
    sf.write(p, y * 0.5, sr)
    third = extract(get_dataset(f"egfxset:{tiny_guitar_fx}"), spec)
    assert (third.computed, third.cached) == (1, 5)
    table = load_table(ds, spec, compute_missing=False)
    assert table.X.shape == (6, 8, 1 + int(0.3 * 16000) // 256) and not table.missing


def test_interrupted_run_resumes(tiny_guitar_fx, monkeypatch):
    ds = _copy_dataset(tiny_guitar_fx)
    spec = FeatureSpec.parse("stats")
    calls = {"n": 0}
    original = FeatureSpec.compute_clip

    def dying(self, clip):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # a kill mid-run
        return original(self, clip)

    monkeypatch.setattr(FeatureSpec, "compute_clip", dying)
    with pytest.raises(KeyboardInterrupt):
        extract(ds, spec)
    monkeypatch.setattr(FeatureSpec, "compute_clip", original)
    assert not list(cache_dir(spec).glob("*.tmp"))
    resumed = extract(ds, spec)
    assert (resumed.computed, resumed.cached) == (3, 3)


def test_shards_partition_and_merge(tiny_guitar_fx):
    ds = _copy_dataset(tiny_guitar_fx)
    spec = FeatureSpec.parse("spectrum_db:sr=8000,duration_s=0.25")
    reports = [extract(ds, spec, shard=(i, 3)) for i in range(3)]
    assert sum(r.computed for r in reports) == 6 and all(r.computed == 2 for r in reports)
    table = load_table(ds, spec, compute_missing=False)
    assert len(table.clip_ids) == 6 and table.X.shape == (6, 1001)
    with pytest.raises(ConfigError):
        extract(ds, spec, shard=(3, 3))


def test_bad_clip_is_reported_not_fatal(tiny_guitar_fx):
    p = tiny_guitar_fx / "TapeEcho/Bridge/6-0.wav"
    p.write_bytes(p.read_bytes()[:100])
    ds = _copy_dataset(tiny_guitar_fx)
    spec = FeatureSpec.parse("mfcc:n_mfcc=5,duration_s=0.2")
    rep = extract(ds, spec)
    assert rep.computed == 5 and len(rep.failures) == 1
    assert rep.failures[0][0] == "TapeEcho/Bridge/6-0" and "truncated" in rep.failures[0][1]
    assert "FAILED TapeEcho/Bridge/6-0" in rep.summary()
    table = load_table(ds, spec)
    assert table.missing == ["TapeEcho/Bridge/6-0"] and len(table.clip_ids) == 5


def test_unequal_lengths_need_duration(tmp_path):
    from dl4mir.data.synth.vowels import VowelsConfig, generate

    root = generate(tmp_path / "v", VowelsConfig(n_speakers=2, consonants=("b",), duration_s=0.5), workers=1)
    ds = get_dataset(f"vowels:{root}")
    # same-length clips stack fine; a time-series feature of clips of different lengths would not
    assert load_table(ds, FeatureSpec.parse("mfcc:n_mfcc=4")).X.ndim == 3
    import soundfile as sf

    first = ds.clips[0].path
    y, sr = sf.read(first)
    sf.write(first, y[: len(y) // 2], sr)
    with pytest.raises(Dl4mirError, match="set duration_s"):
        load_table(get_dataset(f"vowels:{root}"), FeatureSpec.parse("mfcc:n_mfcc=4"))


def test_parallel_extraction_equals_serial(quick_guitar_fx, tmp_path, monkeypatch):
    import numpy as np

    from dl4mir.features.cache import FeatureSpec, extract, load_table

    spec = FeatureSpec.parse("spectrum_db:sr=8000,duration_s=0.25")
    tables = []
    for workers in (2, 1):
        monkeypatch.setenv("DL4MIR_HOME", str(tmp_path / f"w{workers}"))
        rep = extract(quick_guitar_fx, spec, workers=workers)
        assert rep.computed == len(quick_guitar_fx.clips) and not rep.failures
        assert set(rep.md5) == {c.clip_id for c in quick_guitar_fx.clips}
        tables.append(load_table(quick_guitar_fx, spec, compute_missing=False))
    assert tables[0].clip_ids == tables[1].clip_ids and np.array_equal(tables[0].X, tables[1].X)


def test_rms_normalization_makes_the_feature_level_free_and_parses():
    import numpy as np

    spec = FeatureSpec.parse("logmel:rms_db=-20,duration_s=0.5")
    assert spec.rms_db == -20.0 and FeatureSpec.parse(str(spec)) == spec
    assert spec.key() != FeatureSpec.parse("logmel:duration_s=0.5").key()
    y = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)).astype(np.float32)
    assert np.allclose(spec.compute(y), spec.compute(0.01 * y), atol=1e-3)  # 30 dB quieter, the same feature
    plain = FeatureSpec.parse("logmel:duration_s=0.5")
    assert not np.allclose(plain.compute(y), plain.compute(0.01 * y), atol=1.0)
    assert np.array_equal(spec.compute(np.zeros(8000, np.float32)), plain.compute(np.zeros(8000, np.float32)))
    with pytest.raises(ConfigError, match="rms_db"):
        FeatureSpec.parse("logmel:rms_db=6")
