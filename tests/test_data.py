"""Readers, registry, index validation (every mutation named), path safety, splits."""
import json
import os
import re
import shutil

import numpy as np
import pytest
import soundfile as sf

from dl4mir.data import get_dataset
from dl4mir.data.dataset import Dataset, EGFxSetReader
from dl4mir.data.index import INDEX_FILE, read_index, safe_path, validate
from dl4mir.data.splits import SplitPlan, check_no_leakage, default_split, make_split
from dl4mir.errors import DatasetError
from conftest import EGFX_SAMPLE, requires_shared


# ---------------------------------------------------------------- readers
@requires_shared()
def test_real_egfxset_sample_is_read_like_mirdata(tmp_path):
    ds = get_dataset(f"egfxset:{EGFX_SAMPLE}")
    clips = {c.clip_id: c for c in ds.clips}
    assert set(clips) == {"Clean/Middle/6-22", "TapeEcho/Bridge/2-0", "TapeEcho/Bridge-Middle/1-0"}
    te = clips["TapeEcho/Bridge/2-0"].labels
    assert (te["midi"], te["note_name"], te["string"], te["fret"]) == (59, "B3", 2, 0)
    assert te["effect"] == "tape echo" and te["effect_type"] == "delay" and te["model"] == "Line 6 DL4 Delay"
    assert te["knob_names"][:2] == ["effect selector", "delay time"] and te["setting"][2] == 0.6
    clean = clips["Clean/Middle/6-22"].labels
    assert clean["midi"] == 62 and clean["effect"] == "clean" and clean["pickup"] == "Middle"
    assert clips["TapeEcho/Bridge-Middle/1-0"].groups == {"string": "1", "pickup": "Bridge-Middle", "note": "1-0"}
    # the real folder is never written: its index lives in the dl4mir cache
    assert not (EGFX_SAMPLE / INDEX_FILE).exists() and ds.index_path.is_file()
    assert ds.validate().ok


def test_quick_guitar_fx_covers_every_effect(quick_guitar_fx):
    info = quick_guitar_fx.info()
    assert info["n_clips"] == 13 * 6 * 4 * 3
    assert len(info["label_counts"]["effect"]) == 13 and len(set(info["label_counts"]["effect"].values())) == 1
    clip = quick_guitar_fx.clips[0]
    y, sr = clip.load()
    assert sr == 16000 and len(y) == 16000


def test_gtzan_layout_through_mirdata(tmp_path):
    root = tmp_path / "gtzan"
    for genre in ("blues", "hiphop"):
        for i in range(2):
            p = root / "gtzan_genre" / "genres" / genre / f"{genre}.{i:05d}.wav"
            p.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(p), np.random.default_rng(i).standard_normal(2205) * 0.1, 22050)
    tempo = root / "gtzan_tempo_beat-main" / "tempo" / "gtzan_blues_00000.bpm"
    tempo.parent.mkdir(parents=True)
    tempo.write_text("120.5\n")
    ds = get_dataset(f"gtzan:{root}")
    clips = {c.clip_id: c for c in ds.clips}
    assert set(clips) == {"blues.00000", "blues.00001", "hiphop.00000", "hiphop.00001"}
    assert clips["hiphop.00001"].labels["genre"] == "hip-hop"  # mirdata's own naming
    assert clips["blues.00000"].labels["tempo_bpm"] == pytest.approx(120.5)
    assert clips["blues.00001"].labels["tempo_bpm"] is None
    assert ds.validate().ok


def test_vowels_dataset(tmp_path):
    from dl4mir.data.synth.vowels import VowelsConfig, generate

    root = generate(tmp_path / "v", VowelsConfig(n_speakers=3, consonants=("b", "s"), duration_s=0.5), workers=1)
    ds = get_dataset(f"vowels:{root}")
    assert len(ds.clips) == 3 * 2 * 6
    assert {c.groups["speaker"] for c in ds.clips} == {"spk00m", "spk01f", "spk02c"}


def test_registry_errors_are_helpful(tmp_path):
    with pytest.raises(DatasetError, match="real dataset: give its folder"):
        get_dataset("egfxset")
    with pytest.raises(DatasetError, match="unknown dataset 'mnist'"):
        get_dataset("mnist:/tmp")
    with pytest.raises(DatasetError, match="not found"):
        get_dataset(f"egfxset:{tmp_path / 'nope'}")
    with pytest.raises(DatasetError, match="no audio files"):
        get_dataset(f"egfxset:{tmp_path}").clips
    with pytest.raises(DatasetError, match="unknown profile"):
        get_dataset("guitar-fx", profile="huge")


def test_egfxset_reader_names_files_outside_the_layout(tiny_guitar_fx, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(tiny_guitar_fx, root)
    (root / INDEX_FILE).unlink()
    sf.write(str(root / "RAT" / "Bridge" / "9-99.wav"), np.zeros(100), 16000)
    with pytest.raises(DatasetError, match=r"9-99\.wav"):
        Dataset("egfxset", root, EGFxSetReader()).clips


def test_missing_or_malformed_metadata_csv(tiny_guitar_fx):
    ds = Dataset("egfxset", tiny_guitar_fx, EGFxSetReader())
    csv_path = tiny_guitar_fx / "egfxset_metadata.csv"
    lines = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join(lines[:2] + ['tape echo,Line 6 DL4 Delay,delay,"[oops",x,y']))
    with pytest.raises(DatasetError, match=r"egfxset_metadata.csv:3: column 'Knob Names'"):
        ds.clips
    csv_path.unlink()
    ds = Dataset("egfxset", tiny_guitar_fx, EGFxSetReader())
    with pytest.raises(DatasetError, match="metadata CSV not found"):
        ds.clips


# ---------------------------------------------------------------- validation mutations
def _validate(root):
    return validate(root, read_index(root / INDEX_FILE))


def test_clean_dataset_validates(tiny_guitar_fx):
    rep = _validate(tiny_guitar_fx)
    assert rep.ok and rep.n_checked == 6


def test_missing_file(tiny_guitar_fx):
    (tiny_guitar_fx / "RAT/Bridge/1-0.wav").unlink()
    rep = _validate(tiny_guitar_fx)
    assert rep.missing == ["RAT/Bridge/1-0.wav"] and not rep.ok


def test_truncated_file(tiny_guitar_fx):
    p = tiny_guitar_fx / "Clean/Bridge/6-0.wav"
    p.write_bytes(p.read_bytes()[:3000])
    rep = _validate(tiny_guitar_fx)
    assert rep.checksum_mismatch == ["Clean/Bridge/6-0.wav"]
    assert len(rep.unreadable) == 1 and "truncated" in rep.unreadable[0] and "6-0.wav" in rep.unreadable[0]


def test_flipped_byte(tiny_guitar_fx):
    p = tiny_guitar_fx / "TapeEcho/Bridge/1-0.wav"
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 0x01
    p.write_bytes(bytes(b))
    rep = _validate(tiny_guitar_fx)
    assert rep.checksum_mismatch == ["TapeEcho/Bridge/1-0.wav"] and not rep.unreadable


def test_swapped_files(tiny_guitar_fx):
    a, b = tiny_guitar_fx / "Clean/Bridge/1-0.wav", tiny_guitar_fx / "RAT/Bridge/1-0.wav"
    tmp = a.with_suffix(".tmp")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    rep = _validate(tiny_guitar_fx)
    assert sorted(rep.swapped[0]) == ["Clean/Bridge/1-0.wav", "RAT/Bridge/1-0.wav"]
    assert rep.checksum_mismatch == [] and not rep.ok


def test_file_not_in_index(tiny_guitar_fx):
    shutil.copy(tiny_guitar_fx / "RAT/Bridge/1-0.wav", tiny_guitar_fx / "RAT/Bridge/2-0.wav")
    rep = _validate(tiny_guitar_fx)
    assert rep.unindexed == ["RAT/Bridge/2-0.wav"]


def _edit_index(root, fn):
    path = root / INDEX_FILE
    data = json.loads(path.read_text())
    text = fn(data)
    path.write_text(text if isinstance(text, str) else json.dumps(data))


def test_duplicated_index_entries(tiny_guitar_fx):
    path = tiny_guitar_fx / INDEX_FILE
    text = path.read_text()
    # the same key twice (json.load would silently keep the last) and the same file under two ids
    entry = '"RAT/Bridge/1-0": {"audio": ["RAT/Bridge/1-0.wav", null]}'
    text = text.replace('"tracks": {', '"tracks": {' + entry + ", " + entry.replace('"RAT/Bridge/1-0"', '"alias"') + ", ", 1)
    path.write_text(text)
    idx = read_index(path)
    assert "RAT/Bridge/1-0" in idx.duplicates
    assert any(d.startswith("alias") for d in idx.duplicates)
    assert not validate(tiny_guitar_fx, idx).ok


def test_malformed_index_entries(tiny_guitar_fx):
    def mutate(d):
        d["tracks"]["bad1"] = {"audio": "RAT/Bridge/1-0.wav"}
        d["tracks"]["bad2"] = {"audio": ["RAT/Bridge/6-0.wav", "not-an-md5"]}
        d["tracks"]["bad3"] = 42
    _edit_index(tiny_guitar_fx, mutate)
    rep = _validate(tiny_guitar_fx)
    assert len(rep.malformed) == 3 and any("not-an-md5" in m for m in rep.malformed)
    with pytest.raises(DatasetError, match="3 bad entries"):
        Dataset("x", tiny_guitar_fx, EGFxSetReader()).clips


@pytest.mark.parametrize("content,match", [("{not json", r":1:2: corrupt index"), ('{"tracks": []}', "corrupt index"),
                                           ("", "corrupt index"), (b"\xff\xfe\x00", "not UTF-8")])
def test_corrupt_index(tiny_guitar_fx, content, match):
    path = tiny_guitar_fx / INDEX_FILE
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DatasetError, match=match):
        read_index(path)


def test_paths_escaping_the_root_are_rejected_before_reading(tiny_guitar_fx, tmp_path):
    secret = tmp_path / "secret.wav"
    shutil.copy(tiny_guitar_fx / "RAT/Bridge/1-0.wav", secret)
    os.symlink(secret, tiny_guitar_fx / "RAT/Bridge/link.wav")
    for rel, why in [("../secret.wav", "'..'"), (str(secret), "absolute"), ("RAT/Bridge/link.wav", "outside"),
                     ("C:/x.wav", "absolute"), ("a\\..\\b.wav", "backslash")]:
        with pytest.raises(DatasetError, match=why):
            safe_path(tiny_guitar_fx, rel)

    def mutate(d):
        d["tracks"]["up"] = {"audio": ["../secret.wav", None]}
        d["tracks"]["abs"] = {"audio": [str(secret), None]}
        d["tracks"]["link"] = {"audio": ["RAT/Bridge/link.wav", None]}
    _edit_index(tiny_guitar_fx, mutate)
    rep = _validate(tiny_guitar_fx)
    assert sorted(u.split(":")[0] for u in rep.unsafe) == ["abs", "link", "up"]
    assert rep.n_checked == 6  # the escaping entries were never opened


# ---------------------------------------------------------------- splits
def test_guitar_split_holds_out_string_5_without_leakage(quick_guitar_fx):
    plan = default_split(quick_guitar_fx)
    clips = {c.clip_id: c for c in quick_guitar_fx.clips}
    assert plan.test and {clips[i].groups["string"] for i in plan.test} == {"5"}
    assert len(plan.folds) == 5
    for fold in plan.folds:
        val_strings = {clips[i].groups["string"] for i in fold["val"]}
        train_strings = {clips[i].groups["string"] for i in fold["train"]}
        assert not val_strings & train_strings and "5" not in val_strings | train_strings
        assert len({clips[i].labels["effect"] for i in fold["val"]}) == 13  # stratified: every class in every fold
    assert sorted(plan.development + plan.test) == sorted(clips)


def test_split_is_seeded(quick_guitar_fx):
    a = default_split(quick_guitar_fx, seed=1, group_key="note", test_groups=None)
    b = default_split(quick_guitar_fx, seed=1, group_key="note", test_groups=None)
    c = default_split(quick_guitar_fx, seed=2, group_key="note", test_groups=None)
    assert a.to_dict() == b.to_dict() and a.test != c.test


def test_split_errors_and_leakage_check(quick_guitar_fx):
    with pytest.raises(DatasetError, match=r"not found in 'string'"):
        make_split(quick_guitar_fx.clips, group_key="string", test_groups=["7"])
    with pytest.raises(DatasetError, match="5 folds need at least 5"):
        make_split(quick_guitar_fx.clips, group_key="pickup", test_groups=["Neck"], n_folds=5)
    plan = default_split(quick_guitar_fx)
    plan.folds[0]["val"].append(plan.test[0])
    with pytest.raises(DatasetError, match="leakage"):
        check_no_leakage(plan, quick_guitar_fx.clips)


def test_tinysol_uses_official_folds():
    ds = get_dataset("instruments", profile="quick")
    plan = default_split(ds)
    assert plan.strategy == "official" and len(plan.folds) == 5
    for k, fold in enumerate(plan.folds):
        assert {ds.clips[0].__class__} and all(i for i in fold["val"])
        folds_in_val = {c.labels["fold"] for c in ds.clips if c.clip_id in set(fold["val"])}
        assert folds_in_val == {k}


def test_split_file_round_trip(tmp_path, quick_guitar_fx):
    plan = default_split(quick_guitar_fx)
    assert SplitPlan.load(plan.save(tmp_path / "s.json")) == plan
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DatasetError, match="not a dl4mir split file"):
        SplitPlan.load(tmp_path / "bad.json")


def _gtzan(root, genres=("blues", "jazz"), n=6, seconds=0.5):
    for genre in genres:
        for i in range(n):
            p = root / "gtzan_genre" / "genres" / genre / f"{genre}.{i:05d}.wav"
            p.parent.mkdir(parents=True, exist_ok=True)
            t = np.arange(int(22050 * seconds)) / 22050
            f0 = 110 if genre == "blues" else 440
            sf.write(str(p), 0.2 * np.sin(2 * np.pi * f0 * (1 + i / 20) * t), 22050)
    return root


def test_gtzan_split_follows_the_fault_filtered_lists_or_says_it_is_random(tmp_path, capsys):
    from dl4mir.data.splits import default_split

    root = _gtzan(tmp_path / "gtzan")
    plan = default_split(get_dataset(f"gtzan:{root}"))
    assert plan.strategy == "holdout-group" and "fault-filtered split was not found" in plan.note
    assert "by clip (no grouping key)" in plan.describe()  # never "split on None"

    lists = {"train_filtered.txt": [0, 1, 2], "valid_filtered.txt": [3], "test_filtered.txt": [4]}  # 5: left out
    for name, nums in lists.items():
        (root / name).write_text("".join(f"{g}/{g}.{i:05d}.wav\n" for g in ("blues", "jazz") for i in nums))
    plan = default_split(get_dataset(f"gtzan:{root}"))
    assert plan.strategy == "fault-filtered"
    assert plan.test == ["blues.00004", "jazz.00004"] and plan.folds[0]["val"] == ["blues.00003", "jazz.00003"]
    assert "blues.00005" not in plan.test + plan.folds[0]["train"] + plan.folds[0]["val"]
    assert "2 excerpts left out" in plan.note
    from dl4mir.cli import main

    assert main(["data", "split", f"gtzan:{root}", "--folds", "2"]) == 0  # the command takes the same convention
    assert "fault-filtered split grouped by 'filtered_split'" in capsys.readouterr().out

    (root / "test_filtered.txt").unlink()
    with pytest.raises(DatasetError, match="missing test_filtered.txt"):
        default_split(get_dataset(f"gtzan:{root}"))


def test_genre_task_trains_on_gtzan_and_needs_the_data_named(tmp_path):
    from dl4mir.errors import ConfigError
    from dl4mir.train.data import prepare

    with pytest.raises(ConfigError, match="--data gtzan:"):
        prepare("genre")
    data = prepare("genre", data=f"gtzan:{_gtzan(tmp_path / 'g', seconds=1.0)}")
    assert data.classes == ["blues", "jazz"] and data.task.kind == "classification"
    assert data.X.shape[-1] == 1 + int(10.0 * 16000) // 256  # the task's 10 s window, zero-padded


def test_a_changed_real_folder_is_noticed_and_reindexed_on_request(tmp_path, capsys):
    from dl4mir.cli import main

    root = _gtzan(tmp_path / "gtzan", n=3)
    assert len(get_dataset(f"gtzan:{root}").clips) == 6
    blues2 = root / "gtzan_genre" / "genres" / "blues" / "blues.00002.wav"
    sf.write(str(blues2), np.zeros(4000), 22050)  # replaced by another recording
    (root / "gtzan_genre" / "genres" / "jazz" / "jazz.00001.wav").unlink()
    sf.write(str(root / "gtzan_genre" / "genres" / "jazz" / "jazz.00007.wav"), np.zeros(4000), 22050)
    with pytest.raises(DatasetError, match=r"1 added \(.*jazz.00007.wav\); 1 removed .*1 changed .*blues.00002.wav"
                                           r".*dl4mir data index gtzan:"):
        get_dataset(f"gtzan:{root}").clips
    report = get_dataset(f"gtzan:{root}").validate()  # validation still compares against the old index
    assert not report.ok and any("jazz.00001" in m for m in report.missing)
    assert main(["data", "index", f"gtzan:{root}"]) == 0
    assert "1 added" in capsys.readouterr().out
    ds = get_dataset(f"gtzan:{root}")
    assert sorted(c.clip_id for c in ds.clips) == ["blues.00000", "blues.00001", "blues.00002", "jazz.00000",
                                                   "jazz.00002", "jazz.00007"]
    assert ds.validate().ok and ds.changes() == ""


def _tone(path, f0, seconds=0.5, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(sr * seconds)) / sr
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * f0 * t) * np.exp(-3 * t), sr)


def test_folder_dataset_labels_from_folders_or_csv(tmp_path, capsys):
    from dl4mir.cli import main
    from dl4mir.errors import ConfigError
    from dl4mir.train.data import prepare

    root = tmp_path / "mine"
    for label, f0 in (("low", 110), ("high", 880)):
        for i in range(6):
            _tone(root / label / f"take{i}.wav", f0 * (1 + i / 50))
    _tone(root / "stray.wav", 440)  # no label folder: kept, unlabelled
    ds = get_dataset(f"folder:{root}")
    labels = {c.clip_id: c.labels["label"] for c in ds.clips}
    assert labels["low/take0"] == "low" and labels["high/take5"] == "high" and labels["stray"] is None
    with pytest.raises(ConfigError, match="1 clip.*no label.*stray"):
        prepare("label", data=f"folder:{root}")
    (root / "stray.wav").unlink()
    assert main(["data", "index", f"folder:{root}"]) == 0
    data = prepare("label", data=f"folder:{root}")
    assert data.classes == ["high", "low"] and len(data.clip_ids) == 12
    assert main(["data", "split", f"folder:{root}", "--folds", "2"]) == 0
    assert "random split by clip" in capsys.readouterr().out

    # labels.csv with groups: one group never straddles the split
    rows = ["file,label,group"] + [f"{lab}/take{i}.wav,{lab},session{i % 3}" for lab in ("low", "high")
                                   for i in range(6)]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    ds = get_dataset(f"folder:{root}")
    plan = default_split(ds, n_folds=2)
    assert plan.group_key == "group"
    test_groups = {c.groups["group"] for c in ds.clips if c.clip_id in plan.test}
    assert test_groups and not test_groups & {c.groups["group"] for c in ds.clips if c.clip_id not in plan.test}

    (root / "labels.csv").write_text("file,label\nlow/take0.wav,low\nnowhere.wav,low\n")
    with pytest.raises(DatasetError, match="nowhere.wav"):
        get_dataset(f"folder:{root}").clips
    (root / "labels.csv").write_text("path,class\nlow/take0.wav,low\n")
    with pytest.raises(DatasetError, match=r"labels.csv:1: .*expected file,label\[,group\]"):
        get_dataset(f"folder:{root}").clips


def test_a_folder_that_does_not_match_its_layout_shows_the_expected_one(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"no audio files of the gtzan layout found; expected .*e\.g\. "
                                           r"PATH/gtzan_genre/genres/blues/blues\.00000\.wav"):
        get_dataset(f"gtzan:{tmp_path / 'empty'}").clips


def test_filesystem_oddities_are_named_never_opened(tmp_path):
    """A FIFO named *.wav once hung `data validate` forever; loops and dangling links crashed the index build."""
    import subprocess
    import sys

    root = tmp_path / "odd"
    for i in range(3):
        _tone(root / "a" / f"take{i}.wav", 220)
    os.mkfifo(root / "a" / "pipe.wav")
    (root / "a" / "loop.wav").symlink_to(root / "a" / "loop.wav")
    (root / "a" / "dangling.wav").symlink_to(root / "a" / "gone.wav")
    _tone(tmp_path / "outside.wav", 220)
    (root / "a" / "out.wav").symlink_to(tmp_path / "outside.wav")
    (root / "a" / "inside.wav").symlink_to(root / "a" / "take0.wav")  # a link to a file of the dataset is fine
    p = subprocess.run([sys.executable, "-m", "dl4mir", "data", "validate", f"folder:{root}"], capture_output=True,
                       text=True, timeout=120, env={**os.environ})
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    for name, cause in (("pipe.wav", "not a regular file"), ("loop.wav", "symlink loop"),
                        ("dangling.wav", "dangling symlink"), ("out.wav", "outside the dataset folder")):
        assert re.search(f"a/{name}: [^\n]*{cause}", p.stdout) and f"a/{name}" in p.stderr  # validate, index note
    assert sorted(c.clip_id for c in get_dataset(f"folder:{root}").clips) == ["a/inside", "a/take0", "a/take1",
                                                                            "a/take2"]


@requires_shared()
def test_egfxset_labels_match_mirdatas_own_loader_on_real_files():
    """mirdata's EGFxSet loader, run on the real excerpt, against dl4mir's reader: every attribute, and the audio."""
    from mirdata.datasets import egfxset as mirdata_egfxset

    from dl4mir.data.egfxset import mirdata_attributes
    from dl4mir.data.index import md5_file

    ours = get_dataset(f"egfxset:{EGFX_SAMPLE}").clips
    root = EGFX_SAMPLE.resolve()  # dl4mir resolves a dataset's root: ../shared may be reached through a link
    tracks = {c.labels["mirdata_track_id"]: {"audio": [c.path.relative_to(root).as_posix(), md5_file(c.path)]}
              for c in ours}
    theirs = mirdata_egfxset.Dataset(data_home=str(EGFX_SAMPLE))
    theirs.__dict__["_index"] = {"version": "sample", "tracks": tracks}  # mirdata 1.0 fetches indexes online
    assert {c.labels["effect_folder"] for c in ours} >= {"Clean", "TapeEcho"}
    for clip in ours:
        want = mirdata_attributes(clip)
        track = theirs.track(want["track_id"])
        assert track.stringfret_tuple == want["stringfret_tuple"]
        assert track.pickup_configuration == want["pickup_configuration"]
        assert list(track.midinote.pitches) == [want["midi"]]
        assert list(track.note_name) == [want["note_name"]]
        for attr in ("effect", "model", "effect_type", "knob_names", "knob_type", "setting"):
            assert getattr(track, attr) == want[attr], (clip.clip_id, attr)
        y_theirs, sr_theirs = track.audio
        y_ours, sr_ours = clip.load()
        assert sr_ours == sr_theirs and np.allclose(y_ours, y_theirs, atol=1e-6)


def test_too_few_clips_per_class_for_the_folds_is_a_dataset_error(tmp_path):
    root = tmp_path / "tiny"
    for label in ("a", "b"):
        for i in range(4):
            _tone(root / label / f"{i}.wav", 220)
    ds = get_dataset(f"folder:{root}")
    with pytest.raises(DatasetError, match="5 folds stratified by 'label' need at least one class with 5"):
        default_split(ds)  # 8 clips, 6 for development: enough for 5 folds, not per class
    assert len(default_split(ds, n_folds=2).folds) == 2
    with pytest.raises(DatasetError, match=r"9 folds need at least 9 development clips; there are \d\. .*--folds"):
        default_split(ds, n_folds=9)  # never "groups of None"
