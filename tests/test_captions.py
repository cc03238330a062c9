"""Captions (issue 15 groundwork): the grammar covers every label, the held-out wording shares no phrase with the
training one, the measured facts are physical, and a captions.csv with bad rows is refused by file and line."""
import csv

import numpy as np
import pytest

from dl4mir.cli import main
from dl4mir.data.captions import read_captions
from dl4mir.features import describe as C
from dl4mir.data import get_dataset
from dl4mir.data.egfxset import EFFECTS
from dl4mir.errors import DatasetError

CONCEPTS = [C._EFFECT, C._PICKUP, C._REGISTER, C._BRIGHT, C._DECAY, C._LOUD, C._INSTRUMENT, C._DYNAMICS, C._VOWEL,
            C._SEX]


def test_held_out_wording_shares_no_phrase_or_frame_with_the_training_one():
    for concept in CONCEPTS:
        for name, (train, test) in concept.items():
            assert train and test, name
            assert not (set(train) & set(test)) - {""}, name
    for layout, (train, test) in C.FRAMES.items():
        assert not set(train) & set(test), layout


def test_every_effect_pickup_and_vowel_has_words():
    assert {e.name for e in EFFECTS} == set(C._EFFECT)
    assert set(C._PICKUP) == {"Bridge", "Bridge-Middle", "Middle", "Middle-Neck", "Neck"}


@pytest.mark.parametrize("name", ["guitar-fx", "instruments", "vowels"])
def test_generated_captions_name_each_clips_labels_in_its_wording(name, _dl4mir_home):
    ds = get_dataset(name, profile="quick")
    rows, result = C.caption_dataset(ds, per_clip=2, seed=0)
    assert not result.failures
    by_file = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r)
    assert len(by_file) == len(ds.clips)  # every clip is described
    clip = {c.path.relative_to(ds.root).as_posix(): c for c in ds.clips}
    key, concept = {"guitar-fx": ("effect", C._EFFECT), "instruments": ("instrument", C._INSTRUMENT),
                    "vowels": ("vowel", C._VOWEL)}[name]
    for rel, mine in by_file.items():
        train, test = concept[clip[rel].labels[key]]
        assert {r["split"] for r in mine} == {"train", "test"}
        for r in mine:
            words = train if r["split"] == "train" else test
            assert any(w in r["caption"] for w in words), r
            assert "  " not in r["caption"] and not r["caption"].endswith(",") and ", ," not in r["caption"]
    train_text = {r["caption"] for r in rows if r["split"] == "train"}
    assert not train_text & {r["caption"] for r in rows if r["split"] == "test"}


def test_measured_facts_are_physical():
    sr = C.ANALYSIS_SR
    t = np.arange(sr) / sr
    dark = np.sin(2 * np.pi * 200 * t) * np.exp(-4 * t)
    bright = np.sin(2 * np.pi * 3000 * t) * np.exp(-4 * t)
    short = np.sin(2 * np.pi * 200 * t) * np.exp(-20 * t)
    a, b, c = (C.measure(y.astype(np.float32), sr) for y in (dark, bright, short))
    assert b.centroid_hz > 5 * a.centroid_hz
    assert abs(a.centroid_hz - 200) < 60
    # 20 dB down: exp(-k t) = 0.1 at t = ln(10) / k
    assert abs(a.decay_s - np.log(10) / 4) < 0.05 and abs(c.decay_s - np.log(10) / 20) < 0.03
    quiet = C.measure((0.1 * dark).astype(np.float32), sr)
    assert abs((a.rms_db - quiet.rms_db) - 20.0) < 0.5


def _csv(path, rows, header=("file", "caption", "split")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_read_captions_refuses_bad_rows_by_file_and_line(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"x")
    good = _csv(tmp_path / "good.csv", [["a.wav", "a dry note", "train"], ["a.wav", "an untreated tone", "test"]])
    assert read_captions(good, tmp_path) == {"a.wav": [("a dry note", "train"), ("an untreated tone", "test")]}
    cases = {
        "missing.csv": ([["b.wav", "x", "train"]], "missing.csv:2: b.wav is not a file"),
        "empty.csv": ([["a.wav", "", "train"]], "empty.csv:2: every row needs a file and a caption"),
        "split.csv": ([["a.wav", "x", "dev"]], "split.csv:2: split 'dev'"),
        "escape.csv": ([["../a.wav", "x", "train"]], "escape.csv:2:"),
        "header.csv": ([], "no captions"),
    }
    for name, (rows, message) in cases.items():
        with pytest.raises(DatasetError, match=message.replace(".", r"\.").replace("'", "'")):
            read_captions(_csv(tmp_path / name, rows), tmp_path)
    with pytest.raises(DatasetError, match=r"unknown column\(s\) \['mood'\]"):
        read_captions(_csv(tmp_path / "col.csv", [["a.wav", "x", "train", "sad"]],
                             header=("file", "caption", "split", "mood")), tmp_path)
    with pytest.raises(DatasetError, match="lacks file and caption"):
        read_captions(_csv(tmp_path / "hdr.csv", [["a.wav", "x"]], header=("path", "text")), tmp_path)
    with pytest.raises(DatasetError, match="not found"):
        read_captions(tmp_path / "nope.csv", tmp_path)


def test_cli_writes_captions_beside_synthetic_data(tmp_path, _dl4mir_home, capsys):
    out = tmp_path / "caps.csv"
    assert main(["data", "captions", "vowels", "--profile", "quick", "--per-clip", "1", "--out", str(out)]) == 0
    ds = get_dataset("vowels", profile="quick")
    assert set(read_captions(out, ds.root)) == {c.path.relative_to(ds.root).as_posix() for c in ds.clips}
    assert main(["data", "captions", "vowels", "--profile", "quick", "--per-clip", "0"]) == 2


def test_a_captions_folder_is_a_dataset_and_undescribed_audio_is_named(tmp_path, _dl4mir_home):
    import soundfile as sf

    root = tmp_path / "mine"
    (root / "takes").mkdir(parents=True)
    for name in ("riff1", "riff2", "riff3"):
        sf.write(root / "takes" / f"{name}.wav", np.zeros(800, dtype=np.float32), 8000)
    _csv(root / "captions.csv", [["takes/riff1.wav", "a bright chorused riff", "train"],
                                 ["takes/riff1.wav", "a doubled, detuned phrase", "test"],
                                 ["takes/riff2.wav", "a dark clean riff", "train"]])
    with pytest.raises(DatasetError, match=r"1 file\(s\) have no caption in captions.csv:\n  takes/riff3.wav"):
        get_dataset(f"captions:{root}").clips
    _csv(root / "captions.csv", [["takes/riff1.wav", "a bright chorused riff", "train"],
                                 ["takes/riff1.wav", "a doubled, detuned phrase", "test"],
                                 ["takes/riff2.wav", "a dark clean riff", "train"],
                                 ["takes/riff3.wav", "a quiet tape-echoed riff", "train"]])
    ds = get_dataset(f"captions:{root}")
    clips = {c.path.name: c.labels for c in ds.clips}
    assert clips["riff1.wav"] == {"captions": ["a bright chorused riff"], "test_captions": ["a doubled, detuned phrase"]}
    assert clips["riff3.wav"]["test_captions"] == []


TEXT_PROBE = """
import os, sys
from dl4mir.features import text
e = text.embed(["a bright chorused guitar note", "a shimmering chorus on a guitar", "a male voice singing ah"],
               cache=False)
assert e.shape == (3, text.DIM) and abs(float((e ** 2).sum(1).mean()) - 1) < 1e-4
assert float(e[0] @ e[1]) > float(e[0] @ e[2]) + 0.2, e @ e.T
print("OK")
"""


@pytest.mark.slow
def test_the_text_encoder_loads_with_no_network_and_no_cache(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "DL4MIR_HOME": str(tmp_path),
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}  # any download would fail
    proc = subprocess.run([sys.executable, "-c", TEXT_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-2000:]
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*.safetensors"))


def test_text_embeddings_are_cached_by_their_texts(_dl4mir_home, monkeypatch):
    from dl4mir.features import text

    calls = []
    fake = type("Enc", (), {"encode": lambda self, t, **k: calls.append(len(t)) or np.ones((len(t), text.DIM))})()
    monkeypatch.setattr(text, "_encoder", lambda: fake)
    a = text.embed(["one caption", "another"])
    b = text.embed(["one caption", "another"])
    text.embed(["a third"])
    assert calls == [2, 1] and np.array_equal(a, b) and a.dtype == np.float32
    with pytest.raises(Exception, match="empty text"):
        text.embed(["  "])
