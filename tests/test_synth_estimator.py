"""Synth parameter estimators (issue 14): the tasks pick one synth's notes from synth-presets with their patch
vectors, the estimator trains through the one loop and predicts valid patches, and rendering predictions is
rendering patches."""
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
