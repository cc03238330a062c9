"""The training loop: exact resume after kill -9 at a random step, atomic checkpoints, NaN stop, export."""
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dl4mir.train import checkpoint as ckpt
from dl4mir.train.loop import TrainingError

sys.path.insert(0, str(Path(__file__).parent))
import resume_worker  # noqa: E402

WORKER = Path(__file__).parent / "resume_worker.py"


def _weights(out_dir):
    from safetensors.torch import load_file

    return load_file(str(Path(out_dir) / "export" / "model.safetensors"))


@pytest.mark.slow
def test_kill_9_at_a_random_step_then_resume_is_bitwise_identical(tmp_path):
    reference = tmp_path / "reference"
    proc = subprocess.run([sys.executable, str(WORKER), str(reference)], capture_output=True, text=True, timeout=300)
    assert "DONE" in proc.stdout, proc.stderr
    total = int([line for line in proc.stdout.splitlines() if line.startswith("STEP")][-1].split()[1])

    kill_at = random.Random().randint(2, total - 2)
    print(f"killing at step {kill_at} of {total}")  # reproduce a failure with this number
    victim = tmp_path / "victim"
    p = subprocess.Popen([sys.executable, str(WORKER), str(victim)], stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.strip() == f"STEP {kill_at}":
            os.kill(p.pid, signal.SIGKILL)
            break
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL
    assert not (victim / "export").exists()
    resumed = subprocess.run([sys.executable, str(WORKER), str(victim)], capture_output=True, text=True, timeout=300)
    assert "resuming" in resumed.stdout and "DONE" in resumed.stdout, resumed.stderr

    ref_w, vic_w = _weights(reference), _weights(victim)
    assert ref_w.keys() == vic_w.keys()
    for k in ref_w:
        assert torch.equal(ref_w[k], vic_w[k]), k
    assert (reference / "steps.csv").read_text() == (victim / "steps.csv").read_text()
    assert (reference / "epochs.csv").read_text().count("\n") == (victim / "epochs.csv").read_text().count("\n")


def test_a_kill_during_the_checkpoint_write_leaves_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ckpt.save_atomic({"step": 1, "w": torch.ones(3)}, path)
    real_save = torch.save

    def dying_save(obj, f, *a, **k):
        f.write(b"PK\x03\x04 half a checkpoint")  # the process dies mid-write
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_atomic({"step": 2, "w": torch.zeros(3)}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert ckpt.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_checkpoints_load_with_weights_only_and_refuse_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, bad)
    with pytest.raises(Exception, match="unreadable checkpoint"):
        ckpt.load(bad)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception, match="junk.pt"):
        ckpt.load(tmp_path / "junk.pt")


def test_rng_state_round_trip():
    import numpy as np

    state = ckpt.rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    ckpt.set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_non_finite_loss_stops_within_one_step(tmp_path, monkeypatch):
    data = resume_worker.make_data()
    data.X[data.rows("train")[5]] = float("nan")  # one poisoned example
    monkeypatch.setattr(resume_worker, "make_data", lambda: data)
    with pytest.raises(TrainingError) as err:
        resume_worker.run(str(tmp_path / "nan"))
    msg = str(err.value)
    assert "non-finite loss" in msg and "nonfinite.pt" in msg
    diag = ckpt.load(tmp_path / "nan" / "checkpoints" / "nonfinite.pt")
    assert data.rows("train")[5] in diag["batch_rows"].tolist()  # the batch that failed is recorded
    assert diag["state"]["step"] < 10  # it stopped at the first bad batch, not later


def test_export_round_trip(tmp_path):
    summary = resume_worker.run(str(tmp_path / "r"), max_steps=5)
    assert summary["steps"] == 5
    model, meta = ckpt.load_exported(tmp_path / "r" / "export")
    assert meta["model"] == "cnn" and meta["classes"] == ["a", "b", "c"]
    x = resume_worker.make_data().X[:4]
    assert model(x).shape == (4, 3)
    (tmp_path / "r" / "export" / "config.json").write_text("{")
    with pytest.raises(Exception, match="malformed model config"):
        ckpt.load_exported(tmp_path / "r" / "export")


@pytest.mark.slow
def test_distributed_data_parallel_under_torchrun(tmp_path):
    """Two CPU processes (gloo) train in lockstep: they finish, agree, and only rank 0 writes the export."""
    script = tmp_path / "ddp.py"
    script.write_text(
        "import sys; sys.path.insert(0, %r)\n"
        "import torch.distributed as dist, resume_worker\n"
        "s = resume_worker.run(%r, max_steps=6)\n"
        "print('RANK', dist.get_rank(), 'STEPS', s['steps'], flush=True)\n" % (str(Path(__file__).parent),
                                                                               str(tmp_path / "ddp_out")))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29731",
                           str(script)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RANK 0 STEPS 6" in proc.stdout and "RANK 1 STEPS 6" in proc.stdout
    assert (tmp_path / "ddp_out" / "export" / "model.safetensors").is_file()


def test_on_the_fly_augmentation_is_seeded_and_label_preserving():
    from dl4mir.train.data import augment_batch

    t = torch.arange(8000) / 8000.0
    wave = (0.5 * torch.sin(2 * torch.pi * 220 * t)).repeat(8, 1, 1)
    a = augment_batch(wave, "waveform", seed=(0, 1, 2))
    b = augment_batch(wave, "waveform", seed=(0, 1, 2))
    c = augment_batch(wave, "waveform", seed=(0, 1, 3))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == wave.shape and torch.isfinite(a).all()
    assert (a - wave).abs().amax(dim=(1, 2)).gt(1e-3).sum() >= 4  # most items changed
    # the tone is still there: its bin dominates each augmented spectrum within a semitone
    peak_hz = torch.fft.rfft(a[:, 0]).abs().argmax(-1).float()
    assert ((peak_hz / 220).log2().abs() * 12 < 1.05).all()
    mel = torch.randn(4, 16, 20)
    m = augment_batch(mel, "logmel", seed=(1,))
    assert m.shape == mel.shape and torch.equal(m, augment_batch(mel, "logmel", seed=(1,)))


def test_resume_refuses_a_checkpoint_of_a_different_run(tmp_path):
    resume_worker.run(str(tmp_path), max_steps=3)
    data = resume_worker.make_data()
    from dl4mir.models import build_model
    from dl4mir.train.loop import TrainConfig, fit

    other = build_model("cnn", n_classes=3, n_mels=16, channels=[4, 4], dropout=0.5)
    with pytest.raises(TrainingError, match="different run.*model_config"):
        fit(other, data, TrainConfig(epochs=4, batch_size=8, checkpoint_every=1, patience=99), tmp_path)


def test_a_non_resumable_run_writes_logs_and_no_checkpoints(tmp_path):
    summary = resume_worker.run(str(tmp_path), resumable=False)
    assert not (tmp_path / "checkpoints").exists()
    assert (tmp_path / "steps.csv").is_file() and (tmp_path / "export" / "model.safetensors").is_file()
    assert summary["best_val"] is not None


def test_temporaries_of_a_killed_checkpoint_write_are_removed_on_resume(tmp_path):
    """kill -9 during a write skips save_atomic's cleanup; the next run of the folder removes what it left."""
    ckpt.save_atomic({"step": 1}, tmp_path / "last.pt")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".last.pt.{int(dead.stdout)}.tmp"  # a process that no longer exists
    stale.write_bytes(b"PK half a checkpoint")
    live = tmp_path / f".best.pt.{os.getpid()}.tmp"  # a write in progress in a live process is left alone
    live.write_bytes(b"PK")
    assert ckpt.remove_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "last.pt"]


def test_exported_weights_are_readable_by_others_and_unreadable_ones_say_so(tmp_path):
    from dl4mir.models import build_model

    model = build_model("mlp", n_classes=3, n_mels=8, n_frames=4)
    old = os.umask(0o022)
    try:
        out = ckpt.export(model, tmp_path / "export", {"model": "mlp", "model_config": {"n_classes": 3, "n_mels": 8,
                                                                                         "n_frames": 4}})
    finally:
        os.umask(old)
    assert (out / "model.safetensors").stat().st_mode & 0o777 == 0o644  # safetensors alone writes 0600
    (out / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ckpt.CheckpointError, match="model.safetensors: unreadable weights"):
        ckpt.load_exported(out)


def test_balanced_class_weights_are_scikit_learns():
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    from dl4mir.train.loop import balanced_weights

    y = np.array([0] * 12 + [1] * 36 + [2] * 36 + [4] * 4)  # class 3 absent from training: weight 0
    ours = balanced_weights(torch.as_tensor(y), 5).numpy()
    theirs = compute_class_weight("balanced", classes=np.array([0, 1, 2, 4]), y=y) * 4 / 5
    assert ours[3] == 0 and np.allclose(ours[[0, 1, 2, 4]], theirs)


def test_real_guitar_labels_and_models_are_checked(tmp_path):
    from dl4mir.errors import ConfigError
    from dl4mir.data.egfxset import effect_type_of
    from dl4mir.train.predict import real_guitar_report

    assert [effect_type_of(x) for x in ("Delay", "tape echo", "TapeEcho", "distortion", "wah")] == \
        ["delay", "delay", "delay", "distortion", None]
    with pytest.raises(ConfigError, match="needs an effect or effect_type model, not a vowel one"):
        real_guitar_report(None, {"task": "vowel"}, tmp_path)
