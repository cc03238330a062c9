"""Audio–language models: InfoNCE as written by hand, retrieval metrics by hand, the CaptionPairs' wordings, a
model that learns pitch words from a captions folder and labels new tones zero-shot, and the search / classify
commands with their bad input."""
import math

import numpy as np
import pytest
import torch

from dl4mir.audio import save
from dl4mir.cli import main
from dl4mir.errors import ConfigError, DatasetError
from dl4mir.metrics import first_relevant_rank, precision_at_k, retrieval_report
from dl4mir.models import build_model
from dl4mir.models.clap import info_nce
from dl4mir.train import retrieval as R
from dl4mir.train.data import prepare_captions


def test_info_nce_equals_a_by_hand_computation():
    g = torch.Generator().manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(3, 4, generator=g), dim=1)
    t = torch.nn.functional.normalize(torch.randn(3, 4, generator=g), dim=1)
    scale = torch.tensor(5.0)
    s = [[5.0 * float(a[i] @ t[j]) for j in range(3)] for i in range(3)]
    a2t = -sum(s[i][i] - math.log(sum(math.exp(s[i][j]) for j in range(3))) for i in range(3)) / 3
    t2a = -sum(s[j][j] - math.log(sum(math.exp(s[i][j]) for i in range(3))) for j in range(3)) / 3
    assert float(info_nce(a, t, scale)) == pytest.approx((a2t + t2a) / 2, rel=1e-5)


def test_the_same_sentence_is_a_positive_and_content_aware_targets_are_distributions():
    t = torch.nn.functional.normalize(torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]), dim=1)
    hard = build_model("clap").targets(t)
    assert torch.allclose(hard, torch.tensor([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1.0]]))
    soft = build_model("clap-content-aware").targets(t)
    assert torch.allclose(soft.sum(dim=1), torch.ones(3)) and soft[2, 0] > 0


def test_retrieval_metrics_equal_a_by_hand_count():
    sim = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8]])
    rel = np.array([[False, False, True], [True, False, False]])
    assert first_relevant_rank(sim, rel).tolist() == [2.0, 3.0]  # 0.5 is second in row 0; 0.2 last in row 1
    assert precision_at_k(sim, rel, 2).tolist() == [0.5, 0.0]
    rep = retrieval_report(sim, rel, ks=(1, 2))
    assert rep["R@1"] == 0 and rep["R@2"] == 0.5 and rep["median_rank"] == 2.5
    assert rep["chance_R@1"] == pytest.approx(1 / 3) and rep["chance_R@2"] == pytest.approx(2 / 3)
    with pytest.raises(Exception, match="shape"):
        first_relevant_rank(sim, rel[:1])


def test_coarse_accuracy_counts_confusions_within_a_coarse_class():
    report = {"labels": ["chorus", "phaser", "tape echo"], "confusion_matrix": [[2, 1, 0], [3, 0, 1], [0, 0, 4]]}
    kind = {"chorus": "modulation", "phaser": "modulation", "tape echo": "delay"}.get
    assert R.coarse_accuracy(report, kind) == pytest.approx((2 + 1 + 3 + 0 + 4) / 11)


def test_files_key_follows_the_audio(tmp_path):
    from dl4mir.data import get_dataset

    folder = _tones(tmp_path, n=4)
    before = get_dataset(f"captions:{folder}").files_key()
    assert get_dataset(f"captions:{folder}").files_key() == before
    save(folder / "tone01.wav", np.zeros(12000, np.float32), sr=16000)
    ds = get_dataset(f"captions:{folder}")
    ds.refresh_index()  # a changed folder must be re-indexed before use (the dataset says so)
    assert ds.files_key() != before


def _tones(root, n=24, *, seed=0):
    """Low (110–150 Hz) and high (1.5–2 kHz) tones, each with a caption of its register in two wordings."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        high = i % 2 == 1
        f0 = rng.uniform(1500, 2000) if high else rng.uniform(110, 150)
        t = np.arange(8000) / 16000
        y = 0.3 * np.sin(2 * np.pi * f0 * t) * np.exp(-t * rng.uniform(1, 4))
        save(root / f"tone{i:02d}.wav", y.astype(np.float32), sr=16000)
        word = "high" if high else "low"
        rows += [(f"tone{i:02d}.wav", f"a {word} pitched tone", "train"),
                 (f"tone{i:02d}.wav", f"a {word} sine", "train"), (f"tone{i:02d}.wav", f"{word} register", "test")]
    (root / "captions.csv").write_text("file,caption,split\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    return root


def test_captions_folder_pairs_train_and_held_out_wordings(tmp_path):
    data = prepare_captions(f"captions:{_tones(tmp_path)}")
    assert not set(data.texts) & set(data.test_texts)
    rows = data.rows("train")
    _, y = data.batch(rows, seed=(0, 0, 0))
    own = [{tuple(data.text_emb[i].tolist()) for i in data.captions[r]} for r in rows]
    assert all(tuple(v.tolist()) in mine for v, mine in zip(y, own))
    test = data.rows("test")
    _, y_test = data.batch(test)
    assert torch.equal(y_test, torch.stack([data.test_text_emb[data.test_captions[r][0]] for r in test]))


def test_a_clip_without_a_training_caption_is_named(tmp_path):
    _tones(tmp_path, n=4)
    text = (tmp_path / "captions.csv").read_text().replace("tone03.wav,a high pitched tone,train\n", "")
    (tmp_path / "captions.csv").write_text(text.replace("tone03.wav,a high sine,train\n", ""))
    with pytest.raises(DatasetError, match="tone03"):
        prepare_captions(f"captions:{tmp_path}")


def test_clap_learns_register_words_and_labels_new_tones_zero_shot(tmp_path, capsys):
    folder = _tones(tmp_path / "train", n=40)
    out = tmp_path / "run"
    assert main(["train", "clap", "--data", f"captions:{folder}", "--epochs", "30", "--batch-size", "16",
                 "--out", str(out), "--set", "dropout=0"]) == 0
    fresh = _tones(tmp_path / "new", n=10, seed=1)
    files = sorted(str(p) for p in fresh.glob("*.wav"))
    model, meta = R.load_model(out / "export")
    emb = R.embed_files(model, meta, files).ok
    pred, _ = R.zero_shot(model, np.stack([emb[f] for f in files]), ["a low tone", "a high tone"])
    truth = [int(f[-6:-4]) % 2 for f in files]  # odd files are high
    assert np.mean(pred == np.array(truth)) >= 0.9
    capsys.readouterr()
    assert main(["classify", *files[:2], "--model", str(out / "export"), "--labels", "low=a low tone,high"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(": ")[1].startswith("low") and lines[1].split(": ")[1].startswith("high")
    assert main(["search", "a high sine", "--model", str(out / "export"), "--data", f"captions:{fresh}", "-k", "3"]) == 0
    hits = [line.split()[-1] for line in capsys.readouterr().out.splitlines()[1:]]
    assert len(hits) == 3 and all(int(h[-6:-4]) % 2 == 1 for h in hits)
    # bad input: a file that is not audio is listed (exit 1), labels must be distinct and non-empty, queries too
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    assert main(["classify", files[0], str(bad), "--model", str(out / "export"), "--labels", "low,high"]) == 1
    assert "bad.wav" in capsys.readouterr().out
    assert main(["classify", *files[:2], "--model", str(out / "export"), "--labels", "low,high",
                 "--prompt", "a {} tone", "--prompt", "{} register"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(": ")[1].startswith("low") and lines[1].split(": ")[1].startswith("high")
    for prompt in ("no slot", "{} and {}", "{label}"):
        assert main(["classify", files[0], "--model", str(out / "export"), "--labels", "low,high",
                     "--prompt", prompt]) != 0
        assert "exactly once" in capsys.readouterr().err
    for labels, why in (("low,,high", "empty label"), ("low,low", "repeat"), ("low=a,low=b", "repeats"),
                        ("low", "at least two")):
        assert main(["classify", files[0], "--model", str(out / "export"), "--labels", labels]) != 0
        assert why in capsys.readouterr().err
    with pytest.raises(ConfigError, match="empty"):
        R.search(model, R.Index(np.eye(2, model.embed_dim, dtype=np.float32), ["a", "b"], [{}, {}]), " ")


def test_search_index_is_reused_only_for_the_same_weights(tmp_path, quick_guitar_fx):
    runs = {}
    for seed in (0, 1):
        out = tmp_path / f"run{seed}"
        assert main(["train", "clap", "--profile", "quick", "--max-steps", "2", "--epochs", "1", "--seed", str(seed),
                     "--out", str(out)]) == 0
        runs[seed] = out / "export"
    model, meta = R.load_model(runs[0])
    first = R.dataset_index(model, meta, "guitar-fx", profile="quick", export_dir=runs[0])
    again = R.dataset_index(model, meta, "guitar-fx", profile="quick", export_dir=runs[0])
    other = R.dataset_index(*R.load_model(runs[1]), "guitar-fx", profile="quick", export_dir=runs[1])
    assert not first.cached and again.cached and not other.cached
    assert np.array_equal(first.embeddings, again.embeddings) and len(first.files) == len(quick_guitar_fx.clips)


def test_search_refuses_a_model_that_is_not_audio_language(tmp_path):
    from dl4mir.train.checkpoint import export

    export(build_model("cnn"), tmp_path / "export", {"model": "cnn", "model_config": {}, "feature_spec": "logmel",
                                                     "norm": {}})
    with pytest.raises(ConfigError, match="audio–language"):
        R.load_model(tmp_path / "export")
