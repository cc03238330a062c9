"""RAVE: the PQMF bank, streaming equality, the exports (loaded without dl4mir), both training phases and exact
resume across them, the folder: data and its bad input, the configs, and the CLI."""
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from dl4mir.audio import load
from dl4mir.cli import main
from dl4mir.config import read_toml
from dl4mir.errors import DatasetError, ParameterError
from dl4mir.models import build_model
from dl4mir.models.pqmf import PQMF, filter_bank, prototype, reconstruction_snr_db
from dl4mir.models.rave import CONFIGS, export_live
from dl4mir.train import train_model
from dl4mir.train.data import prepare_audio

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "egfxset_sample"
TINY = {"capacity": 4, "latent_dim": 4, "crop_samples": 4096, "scales": (512, 128), "d_capacity": 2, "d_scales": 2}
TRAIN = {"batch_size": 2, "schedule": "constant", "grad_clip": 0.0, "weight_decay": 0.0, "epochs": 1000,
         "patience": 1000, "lr": 1e-3}


# -- PQMF ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_bands", [4, 16])
def test_pqmf_reconstructs_noise_and_a_real_guitar_note_above_40_db(n_bands):
    bank = PQMF(n_bands)
    noise = torch.randn(2, 1, 16 * 4096, generator=torch.Generator().manual_seed(0))
    assert reconstruction_snr_db(noise, bank) >= 40.0
    wavs = sorted(FIXTURE.rglob("*.wav"))
    if not wavs:
        pytest.skip("the shared EGFxSet fixture is not here")
    y, _ = load(wavs[0])
    y = y[: len(y) // n_bands * n_bands]
    assert reconstruction_snr_db(torch.from_numpy(y)[None, None], bank) >= 40.0


def test_pqmf_polyphase_equals_filtering_then_decimating():
    M = 8
    bank = PQMF(M)
    h = prototype(M)
    analysis, _ = filter_bank(h, M)
    x = np.random.default_rng(1).standard_normal(M * 300)
    # the textbook form: filter every band at the full rate, keep every M-th sample (at the frame's last sample)
    direct = np.stack([np.convolve(x, analysis[k])[: len(x)][M - 1::M] for k in range(M)])
    fast = bank.analysis(torch.tensor(x, dtype=torch.float32)[None, None])[0].numpy()
    np.testing.assert_allclose(fast, direct, atol=1e-5)


def test_pqmf_splits_a_sine_into_its_band():
    M, sr = 16, 16000
    t = np.arange(sr) / sr
    bands = PQMF(M).analysis(torch.tensor(np.sin(2 * np.pi * 3100 * t), dtype=torch.float32)[None, None])[0]
    power = (bands[:, 100:] ** 2).mean(1)
    assert int(power.argmax()) == int(3100 // (sr / 2 / M))  # 500 Hz bands: 3100 Hz is in band 6
    assert float(power.max() / power.sum()) > 0.9


def test_pqmf_refuses_what_it_cannot_split():
    with pytest.raises(ParameterError, match="power of two"):
        PQMF(6)
    with pytest.raises(ParameterError, match="multiple of 16"):
        PQMF(16).analysis(torch.zeros(1, 1, 100))


# -- streaming ---------------------------------------------------------------------------------------------------
def test_a_causal_rave_fed_2048_sample_blocks_gives_the_output_it_gives_fed_whole():
    model = build_model("rave", **{**TINY, "crop_samples": 8192}).eval()
    assert model.block_size == 2048
    g = torch.Generator().manual_seed(0)
    x = 0.3 * torch.randn(1, 1, 2048 * 6, generator=g)
    noise = torch.randn(1, 16, x.shape[-1] // 16, generator=g)  # the noise branch's input, the same both ways
    with torch.no_grad():
        whole = model.decode(model.encode(x), noise)
        model.set_streaming(True)
        z = torch.cat([model.encode(x[..., i:i + 2048]) for i in range(0, x.shape[-1], 2048)], dim=-1)
        blocks = torch.cat([model.decode(z[..., j:j + 1], noise[..., j * 128:(j + 1) * 128]) for j in range(6)], -1)
    assert float((blocks - whole).abs().max()) <= 1e-4
    assert float(whole.abs().max()) > 1e-3  # not trivially equal


def test_only_a_causal_rave_streams():
    model = build_model("rave", **TINY, causal=False)
    with pytest.raises(ParameterError, match="causal"):
        model.set_streaming(True)
    with pytest.raises(ParameterError, match="block size"):
        build_model("rave", **{**TINY, "crop_samples": 3000})


def test_reconstruct_is_aligned_and_as_long_as_its_input():
    model = build_model("rave", **TINY).eval()
    with torch.no_grad():
        y = model.reconstruct(torch.randn(3, 5000))
    assert y.shape == (3, 1, 5000)


# -- export, loaded without dl4mir ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_streaming_exports_load_with_torch_alone_and_agree(tmp_path):
    model = build_model("rave", **TINY).eval()
    with torch.no_grad():  # silence the noise branch so the two files' outputs can be compared sample by sample
        model.decoder.noise.conv.bias.fill_(-30.0)
    paths = export_live(model, tmp_path)
    script = textwrap.dedent(f"""
        import sys, torch
        live = torch.jit.load({str(paths['torchscript'])!r})
        assert (live.sample_rate, live.block_size) == (16000, 2048), (live.sample_rate, live.block_size)
        x = 0.3 * torch.randn(1, 1, 2048 * 4, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            z = torch.cat([live.encode(x[..., i:i + 2048]) for i in range(0, x.shape[-1], 2048)], -1)
            assert z.shape == (1, live.n_latents, 4), z.shape
            y = torch.cat([live.decode(z[..., j:j + 1]) for j in range(4)], -1)
        program = torch.export.load({str(paths['export'])!r}).module()
        with torch.no_grad():
            y2 = torch.cat([program(x[..., i:i + 2048]) for i in range(0, x.shape[-1], 2048)], -1)
        assert y.shape == x.shape and torch.isfinite(y).all()
        assert float((y - y2).abs().max()) <= 1e-4, float((y - y2).abs().max())
        assert not any(m == "dl4mir" or m.startswith("dl4mir.") for m in sys.modules)
        print("OK", float(y.abs().max()))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]


# -- training: both phases, fidelity, resume ---------------------------------------------------------------------
def _folder(root: Path, n: int = 4, seconds: float = 1.0, sr: int = 22050) -> Path:
    """Plucked-string-like notes at another sample rate than the model's, in sub-folders."""
    root.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    for i in range(n):
        f0 = 110 * 2 ** (i / 4)
        y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8)) * np.exp(-3 * t) * 0.2
        (root / f"take{i % 2}").mkdir(exist_ok=True)
        sf.write(root / f"take{i % 2}" / f"note{i}.wav", y.astype(np.float32), sr)
    return root


def test_train_rave_on_a_folder_runs_both_phases_and_fits_the_latent_pca(tmp_path):
    data = _folder(tmp_path / "audio")
    result = train_model("rave", data=f"folder:{data}", out=tmp_path / "run", resume="fresh",
                         model_config={**TINY, "phase1_steps": 3, "warmup_steps": 2},
                         train={**TRAIN, "max_steps": 5})
    steps = (tmp_path / "run" / "steps.csv").read_text().splitlines()
    header = steps[0].split(",")
    assert len(steps) == 6 and "loss_d" in header
    rows = [dict(zip(header, line.split(","))) for line in steps[1:]]
    assert [r["loss_d"] == "" for r in rows] == [True, True, True, False, False]  # phase 2 from step 4
    model = result.model
    assert abs(float(model.explained_variance_ratio.sum()) - 1.0) < 1e-4
    assert 1 <= model.fidelity(0.95) <= model.fidelity(0.99) <= 4
    meta = json.loads((tmp_path / "run" / "export" / "config.json").read_text())
    assert meta["model"] == "rave" and meta["sample_rate"] == 16000


def test_every_config_trains_a_step_of_each_phase_at_tiny_size(tmp_path):
    x = 0.1 * torch.randn(2, 1, 8192)
    for name in ("rave-small.toml", "rave-v2.toml"):
        doc = read_toml(CONFIGS / name)
        cfg = {**doc["model"], "capacity": 2, "latent_dim": 4, "crop_samples": 8192, "d_capacity": 2,
               "phase1_steps": 1}
        model = build_model("rave", **cfg)
        for step in (0, 1):
            logs = model(x, step=step)
            logs["loss"].backward()
            assert torch.isfinite(logs["loss"]) and ("loss_d" in logs) == (step == 1)
        assert set(doc["train"]) <= {"epochs", "max_steps", "batch_size", "lr", "schedule", "weight_decay",
                                     "grad_clip", "patience", "checkpoint_every", "amp_dtype"}


RESUME_WORKER = """
import sys, numpy as np, soundfile as sf, torch
torch.set_num_threads(1)
from dl4mir.train import train_model
out, data = sys.argv[1], sys.argv[2]
train_model("rave", data="folder:" + data, out=out,
            model_config=dict(capacity=4, latent_dim=4, crop_samples=4096, scales=(512, 128), d_capacity=2,
                              d_scales=2, phase1_steps=3, warmup_steps=2),
            train=dict(batch_size=2, schedule="constant", grad_clip=0.0, weight_decay=0.0, epochs=1000,
                       patience=1000, lr=1e-3, max_steps=8, checkpoint_every=1),
            on_step=lambda s: print(f"STEP {s}", flush=True))
print("DONE", flush=True)
"""


@pytest.mark.slow
def test_a_run_killed_during_phase_2_resumes_bit_for_bit(tmp_path):
    from safetensors.torch import load_file

    data = _folder(tmp_path / "audio")
    worker = tmp_path / "worker.py"
    worker.write_text(RESUME_WORKER)

    def run(out):
        return subprocess.run([sys.executable, str(worker), str(out), str(data)], capture_output=True, text=True,
                              timeout=300)

    ref = run(tmp_path / "reference")
    assert "DONE" in ref.stdout, ref.stderr[-2000:]
    victim = tmp_path / "victim"
    p = subprocess.Popen([sys.executable, str(worker), str(victim), str(data)], stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.strip() == "STEP 5":  # phase 2 began at step 4
            os.kill(p.pid, signal.SIGKILL)
            break
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL
    resumed = run(victim)
    assert "resuming" in resumed.stdout and "DONE" in resumed.stdout, resumed.stderr[-2000:]
    a, b = (load_file(str(d / "export" / "model.safetensors")) for d in (tmp_path / "reference", victim))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "reference" / "steps.csv").read_text() == (victim / "steps.csv").read_text()


# -- folder: data, bad input ----------------------------------------------------------------------------------------
def test_folder_audio_lists_unreadable_files_and_uses_the_rest(tmp_path):
    data = _folder(tmp_path / "audio", n=6)
    (data / "take0" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (data / "take1" / "empty.flac").write_bytes(b"")
    crops = prepare_audio(f"folder:{data}", sr=16000, crop_samples=4096)
    assert len(crops.files) == 6
    assert sorted(Path(f).name for f, _ in crops.failures) == ["broken.wav", "empty.flac"]
    text = crops.describe()
    assert "broken.wav" in text and "empty.flac" in text and "not used" in text
    x, _ = crops.batch(crops.rows("train")[:3], seed=(0, 0, 0))
    again, _ = crops.batch(crops.rows("train")[:3], seed=(0, 0, 0))
    other, _ = crops.batch(crops.rows("train")[:3], seed=(0, 1, 0))
    assert x.shape == (3, 1, 4096) and torch.equal(x, again) and not torch.equal(x, other)


def test_folder_audio_bad_input_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no audio files"):
        prepare_audio(f"folder:{tmp_path / 'empty'}", sr=16000, crop_samples=4096)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.wav").write_bytes(b"not audio at all")
    with pytest.raises(DatasetError, match="none of its 1 audio file"):
        prepare_audio(f"folder:{bad}", sr=16000, crop_samples=4096)
    short = _folder(tmp_path / "short", n=2, seconds=0.1)
    with pytest.raises(DatasetError, match="less than one batch"):
        prepare_audio(f"folder:{short}", sr=16000, crop_samples=4096, min_train_samples=8 * 4096)


# -- the command line -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_train_export_and_generate(tmp_path, capsys):
    data = _folder(tmp_path / "audio")
    run = tmp_path / "run"
    sets = [f"--set={k}={v}" for k, v in {"capacity": 4, "latent_dim": 4, "crop_samples": 4096, "d_capacity": 2,
                                            "phase1_steps": 2, "warmup_steps": 1}.items()]
    assert main(["train", "rave", "--data", f"folder:{data}", "--out", str(run), "--max-steps", "3",
                 "--batch-size", "2", *sets]) == 0
    assert main(["export", "rave", str(run), "--streaming", "--latents", "5"]) == 2  # the model has 4
    assert "1 to 4 latent dimensions, not 5" in capsys.readouterr().err
    assert main(["export", "rave", str(run), "--streaming", "--latents", "2"]) == 0
    assert (run / "export" / "rave_live.ts").is_file() and (run / "export" / "rave_live.pt2").is_file()
    assert torch.jit.load(str(run / "export" / "rave_live.ts")).n_latents == 2
    note = next(data.rglob("*.wav"))
    out = tmp_path / "gen"
    assert main(["generate", "transfer", "--model", str(run), str(note), str(tmp_path / "missing.wav"),
                 "--out", str(out)]) == 1  # the missing file is reported at the end, the other one is made
    made = sorted(out.glob("*.wav"))
    assert [p.name for p in made] == [f"{note.stem}_through_rave.wav"]
    assert "missing.wav" in capsys.readouterr().out
    y, sr = sf.read(made[0])
    assert sr == 16000 and abs(len(y) - 16000) <= 1
    assert main(["generate", "sample", "--model", str(run), "--n", "2", "--duration-s", "0.5",
                 "--out", str(tmp_path / "s")]) == 0
    assert len(list((tmp_path / "s").glob("*.wav"))) == 2
    assert main(["generate", "interpolate", "--model", str(run), str(note), str(note), "--steps", "3",
                 "--out", str(tmp_path / "i")]) == 0
    assert main(["generate", "transfer", "--model", str(run), str(note), "--from", "clean", "--to", "x"]) == 2
    assert "--from is for the spectrogram models" in capsys.readouterr().err
    assert main(["export", "rave", str(run)]) == 2
    assert main(["evaluate", str(run)]) == 0
    assert "validation files" in capsys.readouterr().out
    assert json.loads((run / "test_metrics.json").read_text())["spectral"] > 0
