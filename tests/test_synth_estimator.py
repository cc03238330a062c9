"""Synth parameter estimators (issue 14): the tasks pick one synth's notes from synth-presets with their patch
vectors, the estimator trains through the one loop and predicts valid patches, and rendering predictions is
rendering patches."""
import json

import numpy as np
import pytest
import torch

from dl4mir.errors import ParameterError
from dl4mir.metrics import synth_lsd
from dl4mir.models import build_model
from dl4mir.synth import patches
from dl4mir.synth.matching import render_units
from dl4mir.train import train_model
from dl4mir.train.data import prepare


@pytest.mark.parametrize("synth", list(patches.SPACES))
def test_a_params_task_holds_one_synths_notes_and_their_patches(synth, _dl4mir_home):
    data = prepare(f"{synth}-params", profile="quick", show_progress=False)
    assert set(data.labels["synth"]) == {synth}
    truth = data.y.numpy() * data.norm["target_std"] + data.norm["target_mean"]
    assert truth.shape == (len(data.clip_ids), len(patches.names(synth)))
    assert truth.min() >= 0 and truth.max() <= 1
    patch = np.array([cid.rsplit("_", 1)[0] for cid in data.clip_ids])  # fm/fm_0003_60 → fm/fm_0003
    assert not set(patch[data.rows("test")]) & set(patch[data.rows("train")])


def test_the_estimator_trains_and_predicts_valid_patches(tmp_path, _dl4mir_home):
    data = prepare("subtractive-params", profile="quick", show_progress=False)
    for name in ("synth-estimator", "synth-estimator-mlp", "synth-estimator-vae", "synth-estimator-flow"):
        trained = train_model(name, data, out=tmp_path / name, train={"epochs": 2, "batch_size": 4, "export": "none"})
        assert np.isfinite(trained.summary["best_val"]) and trained.summary["steps"] > 0
        units = trained.model.eval().params(data.X).numpy()
        assert units.shape == (len(data.clip_ids), 14) and units.min() >= 0 and units.max() <= 1
        assert np.array_equal(units, trained.model.params(data.X).numpy())  # a flow's samples are seeded
        patches.validate(patches.denormalize(units[0], "subtractive"), "subtractive")
        logged = {"nll"} if name.endswith("flow") else {"param_mse", "param_mae"}
        assert logged <= set(trained.summary["test"])
    model = build_model("synth-estimator", n_params=14, n_mels=64, n_frames=63)
    with pytest.raises(ParameterError, match="patch vectors"):
        model(torch.zeros(2, 64, 63), torch.zeros(2, 3))
    with pytest.raises(ParameterError, match="estimator"):
        build_model("synth-estimator", estimator="gan")


def test_the_vae_estimator_keeps_its_code_and_the_flow_its_likelihood():
    torch.manual_seed(0)
    x, y = torch.randn(4, 64, 63), torch.rand(4, 14)
    vae = build_model("synth-estimator-vae", n_params=14).train()
    logs = vae(x, y)
    assert logs["kl"] >= 0 and logs["recon_mse"] > 0 and torch.isfinite(logs["loss"])
    flow = build_model("synth-estimator-flow", n_params=14).train()
    logs = flow(x, y, step=3)
    assert set(logs) == {"loss", "nll"} and torch.isfinite(logs["loss"]) and flow.val_metric == "nll"
    before = logs["loss"].detach().item()
    opt = torch.optim.Adam(flow.parameters(), 1e-3)
    for _ in range(30):  # the likelihood of these patches rises as the flow learns them
        opt.zero_grad()
        flow(x, y)["loss"].backward()
        opt.step()
    assert flow(x, y)["loss"].detach().item() < before


def test_rendering_units_is_rendering_their_patches():
    rng = np.random.default_rng(0)
    patch = patches.random_patch("subtractive", rng)
    unit = patches.normalize(patch, "subtractive")
    notes = render_units("subtractive", np.stack([unit, unit]), f0_hz=[220.0, 330.0], note_s=0.7, sr=16000,
                         n_samples=16000)
    one = patches.render("subtractive", patch, f0_hz=330.0, note_s=0.7, duration_s=1.0)
    assert np.abs(notes[1] - one).max() < 1e-4
    assert synth_lsd(notes[:1], notes[:1])["lsd_db"][0] == 0


def test_estimate_then_refine_from_the_command_line(tmp_path, capsys, _dl4mir_home):
    import soundfile as sf

    from dl4mir.cli import main

    assert main(["train", "synth-estimator", "--task", "harmonic-noise-params", "--profile", "quick", "--epochs",
                 "1", "--out", str(tmp_path / "run")]) == 0
    patch = patches.random_patch("harmonic-noise", np.random.default_rng(5))
    sf.write(tmp_path / "t.wav", patches.render("harmonic-noise", patch, f0_hz=196.0, note_s=0.7, duration_s=1.0),
             16000)
    capsys.readouterr()
    assert main(["synth", "match", str(tmp_path / "t.wav"), "--model", str(tmp_path / "run" / "export"),
                 "--f0-hz", "196", "--steps", "3", "--restarts", "1", "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "estimated a harmonic-noise patch" in out and "harmonic-noise at 196.0 Hz" in out
    patches.load(tmp_path / "m" / "patch.json", "harmonic-noise")
    assert main(["synth", "match", str(tmp_path / "t.wav"), "--model", str(tmp_path / "run" / "export"),
                 "--init", str(tmp_path / "m" / "patch.json"), "--out", str(tmp_path / "x")]) == 2


def test_the_multi_task_targets_hold_every_synth_padded_behind_its_index(_dl4mir_home):
    data = prepare("synth-params", profile="quick", show_progress=False)
    sizes = [len(patches.names(s)) for s in data.norm["synths"]]
    assert data.norm["synths"] == sorted(patches.SPACES) and data.norm["synth_n_params"] == sizes
    assert data.y.shape == (len(data.clip_ids), 1 + max(sizes))
    for k, synth in enumerate(data.norm["synths"]):  # the same notes, split and patches as the one-synth task
        rows = (data.y[:, 0] == k).numpy()
        one = prepare(f"{synth}-params", profile="quick", show_progress=False)
        assert [c for c, r in zip(data.clip_ids, rows) if r] == one.clip_ids
        truth = one.y.numpy() * one.norm["target_std"] + one.norm["target_mean"]
        np.testing.assert_allclose(data.y[rows, 1:1 + sizes[k]].numpy(), truth, atol=1e-5)
        assert not data.y[rows, 1 + sizes[k]:].any()  # zero padding
        test = set(data.rows("test").tolist())
        assert [c for i, c in enumerate(data.clip_ids) if rows[i] and i in test] == [one.clip_ids[i] for i in one.rows("test")]


@pytest.mark.parametrize("design", ["separate-separate", "joint-separate", "joint-joint"])
def test_a_note_teaches_only_its_own_synths_parameters(design):
    """The loss of an FM note reaches neither the padding nor another synth's head (nor, separate, its encoder)."""
    sizes = (36, 8, 14)
    model = build_model("synth-estimator", n_params=36, n_mels=64, n_frames=63, multi_task=design,
                        synths=("fm", "harmonic-noise", "subtractive"), synth_n_params=sizes).train()
    x = torch.randn(4, 64, 63)
    cond = torch.zeros(4, 37)
    cond[:, 0] = 1  # harmonic-noise notes only
    cond[:, 1:9] = torch.rand(4, 8)
    cond[:, 9:] = 0.77  # padding: whatever is there must not matter
    out = model(x, cond)
    out["loss"].backward()
    assert out["param_mae"] > 0
    if design != "joint-joint":
        assert all(p.grad is None or not p.grad.any() for k in (0, 2) for p in model.heads[k].parameters())
        assert any(p.grad.any() for p in model.heads[1].parameters())
    if design == "separate-separate":
        assert all(p.grad is None or not p.grad.any() for k in (0, 2) for p in model.encoders[k].parameters())
    cond2 = cond.clone()
    cond2[:, 9:] = 0.11
    torch.manual_seed(0)
    a = model.eval()(x, cond)["loss"]
    assert model(x, cond2)["loss"] == a
    est = model.params(x, "harmonic-noise")
    assert est.shape == (4, 8) and ((est >= 0) & (est <= 1)).all()
    with pytest.raises(ParameterError, match="say which"):
        model.params(x)


def test_multi_task_settings_that_cannot_work_are_refused():
    with pytest.raises(ParameterError, match="synth-params"):
        build_model("synth-estimator", multi_task="joint-joint")
    with pytest.raises(ParameterError, match="multi-task design"):
        build_model("synth-estimator", n_params=36, synths=("fm", "subtractive"), synth_n_params=(36, 14))
    with pytest.raises(ParameterError, match="regressions"):
        build_model("synth-estimator-vae", n_params=36, multi_task="joint-joint", synths=("fm",), synth_n_params=(36,))
    with pytest.raises(ParameterError, match="multi_task"):
        build_model("synth-estimator", multi_task="joint")


def test_a_multi_task_estimator_from_the_command_line(tmp_path, capsys, _dl4mir_home):
    import soundfile as sf

    from dl4mir.cli import main

    assert main(["train", "synth-estimator", "--multi-task", "joint-separate", "--profile", "quick", "--epochs",
                 "1", "--out", str(tmp_path / "run")]) == 0
    settings = json.loads((tmp_path / "run" / "train_args.json").read_text())
    assert settings["task"] == "synth-params" and settings["model_config"]["multi_task"] == "joint-separate"
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run")]) == 0  # re-scored by its own objective, as trained
    assert "param_mae" in capsys.readouterr().out
    patch = patches.random_patch("subtractive", np.random.default_rng(5))
    sf.write(tmp_path / "t.wav", patches.render("subtractive", patch, f0_hz=196.0, note_s=0.7, duration_s=1.0), 16000)
    export = str(tmp_path / "run" / "export")
    capsys.readouterr()
    assert main(["synth", "match", str(tmp_path / "t.wav"), "--model", export, "--synth", "subtractive", "--f0-hz",
                 "196", "--steps", "2", "--restarts", "1", "--out", str(tmp_path / "m")]) == 0
    assert "estimated a subtractive patch" in capsys.readouterr().out
    patches.load(tmp_path / "m" / "patch.json", "subtractive")
    assert main(["synth", "match", str(tmp_path / "t.wav"), "--model", export, "--f0-hz", "196",
                 "--out", str(tmp_path / "x")]) == 2  # which synth? the model programs three
    assert "say which synth" in capsys.readouterr().err
    assert main(["train", "cnn", "--multi-task", "joint-joint", "--out", str(tmp_path / "c")]) == 2


def test_padded_targets_put_the_index_first_and_refuse_ragged_patches():
    from dl4mir.errors import DatasetError
    from dl4mir.train.data import padded_targets

    labels = [{"synth": "b", "p": [0.1, 0.2, 0.3]}, {"synth": "a", "p": [0.5]}, {"synth": "b", "p": [0.4, 0.5, 0.6]}]
    y, meta = padded_targets(labels, "p", "synth")
    assert meta == {"synths": ["a", "b"], "synth_n_params": [1, 3]}
    np.testing.assert_allclose(y.numpy(), [[1, 0.1, 0.2, 0.3], [0, 0.5, 0, 0], [1, 0.4, 0.5, 0.6]], atol=1e-7)
    with pytest.raises(DatasetError, match="p of synth 'b' has 2 values in one clip and 3 in another"):
        padded_targets([*labels, {"synth": "b", "p": [0.1, 0.2]}], "p", "synth")


@pytest.mark.slow
def test_a_head_per_synth_trains_under_torchrun(tmp_path, _dl4mir_home):
    """Two CPU processes (gloo): a batch of two notes leaves some synth's encoder and head without a gradient on a
    rank, which DistributedDataParallel accepts only when the model says so."""
    import subprocess
    import sys
    from pathlib import Path

    prepare("synth-params", profile="quick", show_progress=False)  # made and cached once, not by both ranks at once
    script = tmp_path / "ddp.py"
    script.write_text(
        "import torch.distributed as dist\n"
        "from dl4mir.train import train_model\n"
        f"r = train_model('synth-estimator', 'synth-params', profile='quick', out={str(tmp_path / 'out')!r},\n"
        "                model_config={'multi_task': 'separate-separate'},\n"
        "                train={'epochs': 2, 'batch_size': 2, 'max_steps': 6, 'progress': False})\n"
        "print('RANK', dist.get_rank(), 'STEPS', r.summary['steps'], flush=True)\n")
    root = str(Path(__file__).resolve().parents[1])
    env = {**__import__("os").environ, "PYTHONPATH": root}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29733",
                           str(script)], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RANK 0 STEPS 6" in proc.stdout and "RANK 1 STEPS 6" in proc.stdout
