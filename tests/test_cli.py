"""The dl4mir command: lazy start, each data action, exit codes, and the main job on the quick profile."""
import json
import subprocess
import sys

import pytest

from dl4mir.cli import main
from conftest import EGFX_SAMPLE, requires_shared


def test_help_imports_nothing_heavy():
    code = ("import sys; import dl4mir, dl4mir.cli\n"
            "try:\n    dl4mir.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'torch', 'librosa', 'scipy', 'soundfile', 'mirdata', 'sklearn') "
            "if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out and "dl4mir" in out


def test_data_help_explains_datasets(capsys):
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    out = capsys.readouterr().out
    assert "egfxset:PATH" in out and "guitar-fx" in out


def test_list_make_info_split(tmp_path, capsys):
    assert main(["data", "list"]) == 0
    assert "tinysol" in capsys.readouterr().out
    assert main(["data", "make", "vowels", "--profile", "quick", "--out", str(tmp_path / "v")]) == 0
    assert str(tmp_path / "v") in capsys.readouterr().out
    assert main(["data", "info", f"vowels:{tmp_path / 'v'}", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_clips"] == 8 * 6 * 6 and info["n_groups"]["speaker"] == 8
    out_split = tmp_path / "split.json"
    assert main(["data", "split", f"vowels:{tmp_path / 'v'}", "--folds", "3", "--out", str(out_split)]) == 0
    assert json.loads(out_split.read_text())["group_key"] == "speaker"


@requires_shared()
def test_validate_exit_codes(tmp_path, capsys, tiny_guitar_fx):
    assert main(["data", "validate", f"egfxset:{EGFX_SAMPLE}"]) == 0
    (tiny_guitar_fx / "RAT/Bridge/1-0.wav").unlink()
    assert main(["data", "validate", f"egfxset:{tiny_guitar_fx}"]) == 1
    out = capsys.readouterr().out
    assert "1 missing" in out and "RAT/Bridge/1-0.wav" in out and "FAILED" in out
    (tiny_guitar_fx / "dl4mir_index.json").write_text("{")
    assert main(["data", "validate", f"egfxset:{tiny_guitar_fx}"]) == 2
    assert "corrupt index" in capsys.readouterr().err


def test_run_data_steps_write_a_report(tmp_path, capsys):
    steps = "data-guitar,data-instruments,data-vowels"
    assert main(["run", "--profile", "quick", "--only", steps, "--out", str(tmp_path), "--run-id", "t"]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "t" / "report.html"
    assert f"report: {report}" in out and "3 step(s) ok, 0 failed" in out
    assert report.read_text().count("<audio") == 13 + 8 + 6  # one example per effect, instrument and vowel
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert all(s["status"] == "ok" for s in summary["steps"].values())


def test_run_reports_a_failing_step_and_finishes_the_rest(tmp_path, capsys):
    assert main(["run", "--profile", "quick", "--only", "data-guitar,data-vowels",
                 "--data", f"egfxset:{tmp_path / 'missing'}", "--out", str(tmp_path), "--run-id", "f"]) == 1
    out = capsys.readouterr().out
    assert "1 step(s) ok, 1 failed: data-guitar" in out and "dataset folder not found" in out
    assert "failed" in (tmp_path / "f" / "report.html").read_text()


def test_run_rejects_unknown_steps(capsys):
    assert main(["run", "--only", "telepathy"]) == 2
    assert "unknown step" in capsys.readouterr().err


def test_run_names_a_missing_real_guitar_folder(tmp_path, capsys):
    assert main(["run", "--only", "data-vowels", "--out", str(tmp_path), "--real-guitar", str(tmp_path / "nope")]) == 2
    assert "--real-guitar" in capsys.readouterr().err and not any(tmp_path.iterdir())


def test_lessons_and_features_commands(tmp_path, capsys):
    assert main(["lessons", "list"]) == 0
    assert "pca-effects" in capsys.readouterr().out
    assert main(["lessons", "run", "dft", "--profile", "quick", "--out", str(tmp_path / "dft")]) == 0
    assert "a 5 kHz tone sampled at 8 kHz appears at (Hz): 3000.0" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "dft")]) == 0  # one lesson's folder renders like a run
    page = (tmp_path / "dft.html").read_text()
    assert 'src="dft/note_dft.png"' in page and 'src="dft/note.wav"' in page and "3000" in page
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert main(["features", "extract", "--dataset", "vowels", "--profile", "quick", "--spec", "mfcc:n_mfcc=5",
                 "--shard", "1/2"]) == 0
    assert "computed" in capsys.readouterr().out
    assert main(["features", "table", "--dataset", "vowels", "--profile", "quick", "--spec", "mfcc:n_mfcc=5",
                 "--out", str(tmp_path / "t.npz")]) == 0
    import numpy as np

    with np.load(tmp_path / "t.npz", allow_pickle=False) as t:  # plain arrays, no pickled JSON strings
        assert t["X"].shape[0] == len(t["clip_ids"]) == len(t["label_vowel"]) == len(t["group_speaker"])
        assert len(set(t["label_vowel"])) == 6
        assert str(t["spec"]).startswith("mfcc:")
    assert main(["features", "extract", "--dataset", "vowels", "--spec", "mfcc", "--shard", "x"]) == 2


@pytest.mark.slow
def test_train_evaluate_predict_from_the_command_line(tmp_path, capsys):
    import numpy as np
    import soundfile as sf

    out = tmp_path / "cnn"
    assert main(["train", "cnn", "--task", "effect", "--profile", "quick", "--epochs", "1", "--max-steps", "2",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "class balance (train)" in text and (out / "export" / "model.safetensors").is_file()
    assert main(["evaluate", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out and (out / "test_metrics.json").is_file()
    # any sample rate and channel count; a broken file is reported, the others still classified
    stereo = tmp_path / "stereo.wav"
    t = np.arange(44100) / 44100
    sf.write(str(stereo), np.stack([np.sin(2 * np.pi * 196 * t), 0.5 * np.sin(2 * np.pi * 392 * t)], 1) * 0.3, 44100)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(stereo.read_bytes()[:60])
    assert main(["predict", "--model", str(out / "export"), str(stereo), str(broken)]) == 1
    text = capsys.readouterr().out
    assert f"{stereo} (1.00 s, " in text and "1 failed" in text and "broken.wav" in text
    assert main(["evaluate", str(tmp_path)]) == 2

    # the whole file is heard, window by window; a file and its first window no longer get the same answer
    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(2 * sr) / sr
    head = 0.3 * np.sin(2 * np.pi * 196 * t) * np.exp(-3 * t)
    long, first = tmp_path / "long.wav", tmp_path / "first.wav"
    sf.write(str(long), np.concatenate([head, 0.3 * rng.standard_normal(6 * sr)]), sr)
    sf.write(str(first), head, sr)
    sf.write(str(tmp_path / "silent.wav"), np.zeros(sr), sr)
    sf.write(str(tmp_path / "short.wav"), head[: sr // 10], sr)
    assert main(["predict", "--model", str(out / "export"), "--json", "--hop", "0.5", str(long), str(first),
                 str(tmp_path / "silent.wav"), str(tmp_path / "short.wav")]) == 0
    got = json.loads(capsys.readouterr().out)["predictions"]
    window_s = got[str(first)]["windows"][0]["end_s"]
    windows = got[str(long)]["windows"]
    assert windows[-1]["end_s"] == pytest.approx(8.0) and len(windows) == int((8.0 - window_s) / 0.5) + 1
    assert got[str(long)]["top"] != got[str(first)]["top"]
    assert got[str(long)]["warnings"] == [] and got[str(first)]["warnings"] == []
    assert any(w.startswith("silent") for w in got[str(tmp_path / "silent.wav")]["warnings"])
    assert any("much shorter than the model's" in w for w in got[str(tmp_path / "short.wav")]["warnings"])
    assert main(["predict", "--model", str(out / "export"), "--per-window", str(tmp_path / "silent.wav")]) == 0
    text = capsys.readouterr().out
    assert "  warning: silent" in text and "   0.00–" in text

    # the user's real recordings, labelled by folder: effect types, EGFxSet effect names or folders all count
    real = tmp_path / "real"
    for label, src in (("clean", first), ("TapeEcho", long), ("tape echo", stereo)):
        (real / label).mkdir(parents=True)
        (real / label / "take.wav").write_bytes(src.read_bytes())
    assert main(["evaluate", str(out), "--real-guitar", str(real)]) == 0
    text = capsys.readouterr().out
    assert "real guitar (3 files in" in text and "recall: clean" in text and "delay" in text
    metrics = json.loads((out / "test_metrics.json").read_text())["real_guitar"]
    assert metrics["n_files"] == 3 and sum(map(sum, metrics["confusion_matrix"])) == 3
    unlabelled = tmp_path / "unlabelled"
    unlabelled.mkdir()
    (unlabelled / "loose.wav").write_bytes(first.read_bytes())  # no label: named, not dropped
    (unlabelled / "wah").mkdir()
    (unlabelled / "wah" / "take.wav").write_bytes(first.read_bytes())
    assert main(["evaluate", str(out), "--real-guitar", str(unlabelled)]) == 2
    err = capsys.readouterr().err
    assert "loose.wav (no label)" in err and "wah/take.wav ('wah')" in err


@pytest.mark.slow
def test_regression_task_beats_predicting_the_mean(tmp_path, capsys):
    assert main(["train", "mlp", "--task", "midi", "--profile", "quick", "--epochs", "3", "--out",
                 str(tmp_path / "midi")]) == 0
    test = json.loads((tmp_path / "midi" / "summary.json").read_text())["test"]
    assert test["r2"] > 0.2, test  # R² 0 is what predicting the mean scores (seen: 0.45 after 3 quick epochs)
    assert f"R² {test['r2']:.4f}" in capsys.readouterr().out


@pytest.mark.slow
def test_predict_sees_exactly_what_training_saw(tmp_path):
    """No train/serve skew: predict() on a dataset file gives the probabilities of the model on its training input."""
    import torch

    from dl4mir.train.checkpoint import load_exported
    from dl4mir.train.data import prepare
    from dl4mir.train.predict import predict_files

    out = tmp_path / "m"
    assert main(["train", "mlp", "--task", "effect", "--profile", "quick", "--epochs", "1", "--max-steps", "3",
                 "--out", str(out)]) == 0
    data = prepare("effect", profile="quick")
    from dl4mir.data import get_dataset

    clips = {c.clip_id: c for c in get_dataset("guitar-fx", profile="quick").clips}
    row = int(data.rows("test")[0])
    model, meta = load_exported(out / "export")
    with torch.no_grad():
        expected = torch.softmax(model(data.X[row:row + 1])[0], 0)
    got = predict_files(out / "export", [clips[data.clip_ids[row]].path], top_k=len(meta["classes"]))
    probs = dict(next(iter(got.ok.values())).windows[0]["top"])  # the first window is the training crop
    for i, name in enumerate(meta["classes"]):
        assert probs[name] == pytest.approx(float(expected[i]), abs=1e-5)


# ---------------------------------------------------------------- settings: precedence, resume or refuse
def _train(out, *extra):
    return main(["train", "mlp", "--task", "effect", "--profile", "quick", "--max-steps", "1", "--out", str(out),
                 *extra])


def _settings(out):
    return json.loads((out / "train_args.json").read_text())


def test_settings_precedence_defaults_toml_set_flags(tmp_path):
    from dl4mir.errors import ConfigError
    from dl4mir.train import resolve_settings

    toml = tmp_path / "c.toml"
    toml.write_text("[model]\nhidden_sizes = [64]\n[train]\nepochs = 20\nlr = 0.5\nbatch_size = 8\n")
    assert resolve_settings("mlp") == ({}, {})  # nothing given: the dataclasses' defaults apply
    assert resolve_settings("mlp", config=toml)[1] == {"epochs": 20, "lr": 0.5, "batch_size": 8}
    model, train = resolve_settings("mlp", config=toml, overrides=["lr=0.1", "epochs=7", "hidden_sizes=32"])
    assert train == {"epochs": 7, "lr": 0.1, "batch_size": 8} and model == {"hidden_sizes": 32}
    model, train = resolve_settings("mlp", config=toml, overrides=["lr=0.1", "epochs=7"], explicit={"epochs": 3})
    assert train == {"epochs": 3, "lr": 0.1, "batch_size": 8}  # flag > --set > TOML > default
    model, _ = resolve_settings("ddx7", overrides=["ratios=[1, 1, 1, 2, 3, 14]", "max_index=5"])
    assert model == {"ratios": [1, 1, 1, 2, 3, 14], "max_index": 5}  # a list as TOML writes it
    with pytest.raises(ConfigError, match="ratios=\\[1, 2.*not a TOML list"):
        resolve_settings("ddx7", overrides=["ratios=[1, 2"])


def test_an_explicit_flag_beats_the_config_file(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("[train]\nepochs = 20\nlr = 0.5\n")
    out = tmp_path / "m"
    assert _train(out, "--config", str(toml), "--epochs", "3", "--set", "lr=0.01") == 0
    train = _settings(out)["train"]
    assert train["epochs"] == 3 and train["lr"] == 0.01 and train["batch_size"] == 32


def test_new_settings_never_silently_resume_an_old_run(tmp_path, capsys):
    out = tmp_path / "m"
    assert _train(out, "--epochs", "2") == 0
    saved = (out / "train_args.json").read_text()
    json.loads(saved)  # plain JSON: no function reprs, nothing that is not a setting
    assert "func" not in saved and "<function" not in saved
    capsys.readouterr()
    # other settings: refused, naming what differs and how to go on; the saved settings are untouched
    assert _train(out, "--epochs", "3", "--lr", "0.01") == 2
    err = capsys.readouterr().err
    assert "train.epochs: 2 then, 3 now" in err and "train.lr: 0.003 then, 0.01 now" in err
    assert "--fresh" in err and "--out" in err
    assert (out / "train_args.json").read_text() == saved
    # the same settings resume (a stopping point is not a setting that defines the run)
    assert main(["train", "mlp", "--task", "effect", "--profile", "quick", "--max-steps", "2", "--epochs", "2",
                 "--out", str(out)]) == 0
    assert "resuming" in capsys.readouterr().out
    # --fresh starts over with the new settings
    assert _train(out, "--epochs", "3", "--lr", "0.01", "--fresh") == 0
    assert "resuming" not in capsys.readouterr().out
    assert _settings(out)["train"]["epochs"] == 3


def test_resume_needs_something_to_resume(tmp_path, capsys):
    assert _train(tmp_path / "empty", "--resume") == 2
    assert "no checkpoint to continue from" in capsys.readouterr().err


def test_user_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["train", "nonsense-net"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dl4mir: error: unknown model 'nonsense-net'") and err.count("\n") == 1
    from dl4mir.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown model"):
        main(["--debug", "train", "nonsense-net"])


def test_every_option_has_a_help_line_with_its_default():
    import argparse

    from dl4mir.cli import _parser

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}")
            elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                yield path, action

    missing = []
    for path, action in walk(_parser(), "dl4mir"):
        name = "/".join(action.option_strings) or action.dest
        if not action.help:
            missing.append(f"{path} {name}: no help")
        elif (action.option_strings and not action.required and action.nargs != 0  # flags are off by default
              and "default" not in action.help):
            missing.append(f"{path} {name}: help does not say the default")
    assert not missing, "\n".join(missing)


def test_the_held_out_group_can_be_chosen_and_a_missing_one_is_named_plainly(tmp_path, capsys):
    assert _train(tmp_path / "s9", "--test-group", "string=9") == 2
    err = capsys.readouterr().err
    assert "test group(s) 9 not found in 'string'; present: 1, 2, 3, 4, 5, 6" in err and "np.str_" not in err
    assert "--test-group string=VALUE" in err
    assert _train(tmp_path / "bad", "--test-group", "string") == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert _train(tmp_path / "s2", "--test-group", "string=2") == 0
    assert _settings(tmp_path / "s2")["test_group"] == "string=2"
    from dl4mir.data import get_dataset
    from dl4mir.train.data import prepare

    data = prepare("effect", profile="quick", test_group="string=2")
    strings = {c.clip_id: c.labels["string"] for c in get_dataset("guitar-fx", profile="quick").clips}
    assert {strings[data.clip_ids[r]] for r in data.rows("test")} == {2}
    assert main(["evaluate", str(tmp_path / "s2")]) == 0  # evaluates on the same held-out string
    assert json.loads((tmp_path / "s2" / "test_metrics.json").read_text())["n"] == len(data.rows("test"))


def test_a_run_folder_is_not_reused_under_other_settings(tmp_path, capsys):
    args = ["run", "--profile", "quick", "--out", str(tmp_path), "--run-id", "r", "--only", "data-vowels"]
    assert main(args) == 0
    assert main(args) == 0 and "already done" in capsys.readouterr().out
    assert main(args[:2] + ["default"] + args[3:]) == 2
    assert "profile: 'quick' then, 'default' now" in capsys.readouterr().err


def test_evaluate_names_a_run_whose_data_was_prepared_in_memory(tmp_path, capsys):
    run = tmp_path / "lesson-model"
    run.mkdir()
    (run / "train_args.json").write_text(json.dumps({"model": "cnn", "task": "effect", "data": None, "profile": None}))
    assert main(["evaluate", str(run)]) != 0
    assert "prepared in memory" in capsys.readouterr().err
