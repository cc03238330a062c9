"""Captioning (ClipCap): words in and out, captions read back with the grammar, BLEU/CIDEr and attribute accuracy
by hand, the two training phases of the captioner, and a captioner trained from the command line on a CLAP that
describes new tones with the right register words, with its bad input."""
import json
import re

import numpy as np
import pytest
import torch

from dl4mir.cli import main
from dl4mir.errors import ConfigError, ParameterError
from dl4mir.features import describe as D
from dl4mir.features import text
from dl4mir.metrics import caption_report
from dl4mir.models import build_model
from dl4mir.models.clap import CLAPConfig
from dl4mir.train import captioning as C
from dl4mir.train.checkpoint import load_exported
from dl4mir.train.data import prepare_captions
from test_audio_language import _tones


def test_words_round_trip_and_unknown_words():
    assert text.words("A dark, tape-echoed note: it's LOW.") == ["a", "dark", ",", "tape-echoed", "note", ":",
                                                                 "it's", "low", "."]
    assert text.sentence(text.words("a dark, tape-echoed note")) == "a dark, tape-echoed note"
    vocab = text.vocabulary(["a dark note", "a bright note"])
    assert vocab[:4] == text.SPECIALS and vocab[4:] == ("a", "bright", "dark", "note")
    ids = text.encode_words(["a dark note", "a warm note"], vocab, max_tokens=4)
    assert ids.shape == (2, 6) and ids[0, 0] == vocab.index(text.BOS) and ids[0, 4] == vocab.index(text.EOS)
    assert ids[1, 2] == vocab.index(text.UNK) and ids[0, 5] == vocab.index(text.PAD)
    assert text.decode_words(ids[0, 1:], vocab) == "a dark note"
    with pytest.raises(ConfigError, match="more than max_tokens"):
        text.encode_words(["one two three four five"], vocab, max_tokens=4)


@pytest.mark.parametrize("layout,labelled", [("egfxset", ("effect", "pickup")), ("tinysol", ("instrument", "dynamics")),
                                             ("vowels", ("vowel", "sex"))])
def test_every_caption_of_the_grammar_reads_back_as_what_it_says(layout, labelled):
    """Captions composed in both wordings from random concepts name, read back, exactly those concepts: the slots
    every frame has always, the others whenever they are read."""
    rng = np.random.default_rng(0)
    slots = {k for frames in D.FRAMES[layout] for f in frames for k in re.findall(r"{(\w+)}", f)}
    for _ in range(400):
        values = {s: list(D._CONCEPTS[s])[int(rng.integers(len(D._CONCEPTS[s])))] for s in slots}
        concepts = {s: D._CONCEPTS[s][v] for s, v in values.items()}
        for wording in ("train", "test"):
            caption = D.compose(concepts, layout, wording, rng)
            said = D.attributes(caption, layout)
            assert all(said.get(s) == values[s] for s in labelled), (caption, said, values)
            assert all(values[s] == v for s, v in said.items()), (caption, said, values)


def _frame_regex(frame: str) -> re.Pattern:
    """A frame of the caption grammar as a regular expression: a slot is any text, a [part] may be left out."""
    out = ""
    for piece in re.split(r"(\[|\]|\{\w+\})", frame):
        out += {"[": "(?:", "]": ")?"}.get(piece, ".+" if piece.startswith("{") else re.escape(piece))
    return re.compile(re.sub(r"(\\ | )", r"\\s*", out) + "$")


def test_no_zero_shot_prompt_is_a_sentence_the_grammar_writes():
    """Zero-shot labels must be recognized from what their words mean, not from a frame the model was trained on:
    no prompt, filled with an effect or instrument name, matches a frame of the caption grammar."""
    from dl4mir.lessons.audio_language import PROMPTS
    from dl4mir.train.retrieval import TEMPLATES, description_vectors

    frames = [_frame_regex(f) for layout in D.FRAMES.values() for wording in layout for f in wording]
    rng = np.random.default_rng(0)
    concepts = {"effect": D._EFFECT["tape echo"], "pickup": D._PICKUP["Neck"], "register": D._REGISTER["low"],
                "bright": D._BRIGHT["dark"], "decay": D._DECAY[""], "loud": D._LOUD["loud"]}
    for wording in ("train", "test"):  # the patterns do recognize the grammar's own sentences
        caption = D.compose(concepts, "egfxset", wording, rng)
        assert any(f.match(caption) for f in frames), caption
    for template in (*PROMPTS, *TEMPLATES):
        for name in ("tape echo", "chorus", "violin"):
            assert not any(f.match(template.format(name)) for f in frames), template.format(name)
    for bad in (("no slot",), ("{} and {}",), ("{label}",), ()):  # checked before any model is asked
        with pytest.raises(ConfigError, match="exactly once"):
            description_vectors(None, "chorus", templates=bad)


def test_attribute_truth_and_accuracy_by_hand():
    truth = D.attribute_truth({"effect": "chorus", "pickup": "Neck", "midi": 45}, "egfxset")
    assert truth == {"effect": "chorus", "pickup": "Neck", "register": "low"}
    said = [D.attributes(c, "egfxset") for c in ("a low chorused guitar note on the neck pickup",
                                                 "phased electric guitar, neck pickup",
                                                 "a dark note")]
    acc = C.attribute_accuracy(said, [truth] * 3)
    assert acc["effect"] == {"accuracy": 1 / 3, "named": 2 / 3, "precision": 0.5}
    assert acc["pickup"]["accuracy"] == pytest.approx(2 / 3) and acc["register"]["named"] == pytest.approx(1 / 3)
    assert D.attributes("a mellow plate-reverb note", "egfxset") == {"bright": "dark", "effect": "plate reverb"}


def test_bleu_by_hand_and_cider_prefers_the_right_caption():
    # one hypothesis: 4/5 unigrams, 3/4 bigrams, 2/3 trigrams, 1/2 four-grams match, same length (no brevity penalty)
    bleu = caption_report(["a b c d e"], [["a b c d f"]])["bleu4"]
    assert bleu == pytest.approx(100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25, rel=1e-6)
    same = caption_report(["a dark tape-echoed note"], [["a dark tape-echoed note", "x"]])
    assert same["bleu4"] == pytest.approx(100)
    refs = [["a chorused note on the neck pickup"], ["a phased note on the bridge pickup"],
            ["a flanged note on the middle pickup"]]
    right = caption_report(["a chorused note on the neck pickup", "a phased note on the bridge pickup",
                            "a flanged note on the middle pickup"], refs)
    wrong = caption_report(["a phased note on the bridge pickup", "a flanged note on the middle pickup",
                            "a chorused note on the neck pickup"], refs)
    assert right["cider"] > 1 and wrong["cider"] == 0  # words every reference has carry no weight (IDF 0)
    assert right["bleu4"] > wrong["bleu4"]
    with pytest.raises(ParameterError, match="one hypothesis per reference"):
        caption_report(["a"], [["a"], ["b"]])
    with pytest.raises(ParameterError, match="at least one reference"):
        caption_report(["a"], [[]])


def test_the_language_model_learns_from_text_then_only_the_mapping_learns_from_audio():
    vocab = text.vocabulary(["a low tone", "a high tone"])
    for mapping in ("clipcap", "clipcap-transformer"):
        model = build_model(mapping, clap=vars(CLAPConfig()), vocab=vocab, max_tokens=4, lm_steps=5, d_model=32,
                            n_layers=1).train()
        e = torch.nn.functional.normalize(torch.randn(3, 2, model.clap.embed_dim), dim=-1)  # audio, captions
        tokens = torch.from_numpy(text.encode_words(["a low tone", "a high tone", "a tone"], vocab, max_tokens=4))
        for step, learns in ((0, "lm"), (5, "mapping")):
            model.zero_grad(set_to_none=True)
            logs = model(e, tokens, step=step)
            logs["loss"].backward()
            assert torch.isfinite(logs["loss"]) and float(logs["phase"]) == (1 if learns == "lm" else 2)
            graded = {name.split(".")[0] for name, p in model.named_parameters() if p.grad is not None}
            assert graded == ({"lm", "mapping"} if learns == "lm" else {"mapping"}), (mapping, step, graded)
        caps = model.caption_embeddings(e[:, 0])
        assert len(caps) == 3 and all(set(text.words(c)) <= set(vocab) for c in caps)
    with pytest.raises(ConfigError, match="trained CLAP"):
        build_model("clipcap")


def test_caption_pairs_give_each_row_the_words_of_its_own_captions(tmp_path):
    data = prepare_captions(f"captions:{_tones(tmp_path, n=8)}").with_tokens()
    assert data.vocab == text.vocabulary(data.texts) and data.tokens.shape[1] == 4 + 2  # "a low pitched tone"
    rows = data.rows("train")
    _, y = data.batch(rows, seed=(0, 0, 0))
    for r, ids in zip(rows, y):
        assert text.decode_words(ids[1:].tolist(), data.vocab) in {data.texts[i] for i in data.captions[r]}
    test = data.rows("test")
    _, y_test = data.batch(test)  # held-out wording: "low register" has a word the training wording never uses
    unk = data.vocab.index(text.UNK)
    assert all(unk in ids.tolist() for ids in y_test) and y_test.dtype == torch.long


@pytest.mark.parametrize("training", [True, False])
def test_a_word_never_sees_the_words_after_it(training):
    vocab = text.vocabulary(["a b c d e"])
    model = build_model("clipcap", clap=vars(CLAPConfig()), vocab=vocab, dropout=0.0)
    model.lm.train(training)
    prefix = torch.randn(2, model.cfg.prefix_len, model.cfg.d_model)
    tokens = torch.randint(4, len(vocab), (2, 6))
    changed = tokens.clone()
    changed[:, 3:] = (changed[:, 3:] - 3) % (len(vocab) - 4) + 4  # other words from position 3 on
    a, b = model.lm(prefix, tokens), model.lm(prefix, changed)
    assert torch.equal(a[:, :3], b[:, :3]) and not torch.allclose(a[:, 3:], b[:, 3:])


@pytest.mark.slow
def test_a_captioner_trained_on_a_clap_names_the_register_of_new_tones(tmp_path, capsys):
    folder = _tones(tmp_path / "train", n=40)
    clap_run, cap_run = tmp_path / "clap", tmp_path / "cap"
    assert main(["train", "clap", "--data", f"captions:{folder}", "--epochs", "30", "--batch-size", "16",
                 "--out", str(clap_run), "--set", "dropout=0"]) == 0
    # a captioner needs a CLAP, and only a captioner takes one
    assert main(["train", "clipcap", "--data", f"captions:{folder}", "--out", str(tmp_path / "x")]) != 0
    assert "--audio-model" in capsys.readouterr().err
    assert main(["train", "cnn", "--audio-model", str(clap_run / "export"), "--out", str(tmp_path / "y")]) != 0
    assert "only the captioners" in capsys.readouterr().err
    assert main(["train", "clipcap", "--data", f"captions:{folder}", "--audio-model", str(clap_run / "export"),
                 "--epochs", "60", "--batch-size", "16", "--lr", "3e-3", "--set", "lm_steps=60", "--set", "d_model=64",
                 "--out", str(cap_run)]) == 0
    settings = json.loads((cap_run / "train_args.json").read_text())
    assert settings["audio_model"] and settings["model_config"]["clap"]["objective"] == "infonce"
    # dl4mir evaluate scores a captioner's captions of its held-out clips, and a CLAP by its objective
    assert main(["evaluate", str(cap_run)]) == 0 and main(["evaluate", str(clap_run)]) == 0
    scored = json.loads((cap_run / "test_metrics.json").read_text())
    assert scored["n"] > 0 and 0 <= scored["bleu4"] <= 100 and "attributes" not in scored  # no grammar: a folder
    assert "loss" in json.loads((clap_run / "test_metrics.json").read_text())

    fresh = _tones(tmp_path / "new", n=10, seed=1)
    files = sorted(str(p) for p in fresh.glob("*.wav"))
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    capsys.readouterr()
    assert main(["caption", *files, str(bad), "--model", str(cap_run / "export"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [f["file"] for f in out["failures"]] == [str(bad)]
    said = [out["captions"][f] for f in files]
    right = [("high" if int(f[-6:-4]) % 2 else "low") in text.words(c) for f, c in zip(files, said)]
    assert np.mean(right) >= 0.9, said
    assert all(c in {"a low pitched tone", "a low sine", "a high pitched tone", "a high sine"} for c in said), said
    # the exported captioner says the same as the one the library loads; a CLAP is not a captioner
    model, meta = C.load_captioner(cap_run / "export")
    assert C.caption_files(model, meta, files).ok == {f: c for f, c in zip(files, said)}
    with pytest.raises(ConfigError, match="captioner"):
        C.load_captioner(clap_run / "export")
    clap, clap_meta = load_exported(clap_run / "export")
    assert meta["norm"] == clap_meta["norm"] and meta["feature_spec"] == clap_meta["feature_spec"]
