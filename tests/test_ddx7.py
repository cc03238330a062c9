"""DDX7 and DDSP's harmonic-plus-noise decoder (issue 14): shapes and sizes, exact streaming, the control data,
training through the one loop, the resynthesis scores, and bad input."""
import numpy as np
import pytest
import soundfile as sf
import torch

from dl4mir.cli import main
from dl4mir.errors import ConfigError, DatasetError, ParameterError
from dl4mir.metrics import loudness_error_db
from dl4mir.models import build_model
from dl4mir.synth.dsp import causal_upsample, next_phase, phase_cycles
from dl4mir.train import train_model
from dl4mir.train.data import prepare_controls
from dl4mir.train.resynthesis import analyse, evaluate_decoder, realtime_factor, render_curves

SR = 16000
TINY = {"ddx7": {"channels": 16, "crop_samples": 4096}, "hpn": {"hidden": 16, "n_harmonics": 20, "crop_samples": 4096}}


def curves(frames: int, batch: int = 1) -> torch.Tensor:
    t = torch.linspace(0, 1, frames)
    return torch.stack([220 * 2 ** (t / 12), -60 + 30 * torch.sin(torch.pi * t)])[None].repeat(batch, 1, 1)


def test_causal_upsample_reaches_each_frame_at_its_last_sample_and_splits_into_blocks():
    c = torch.tensor([[1.0, 3.0, 2.0, 5.0]])
    up = causal_upsample(c, 4)
    assert up.shape == (1, 16)
    assert torch.equal(up[0, 3::4], c[0])  # each frame's value at its last sample
    assert torch.allclose(up[0, 4:8], torch.tensor([1.5, 2.0, 2.5, 3.0]))  # the ramp from the frame before
    blocks = torch.cat([causal_upsample(c[:, :2], 4), causal_upsample(c[:, 2:], 4, c[:, 1:2])], dim=-1)
    assert torch.equal(blocks, up)


def test_phase_carried_between_blocks_equals_one_block_for_non_integer_ratios():
    f0 = 200 + 50 * torch.rand(1, 1000, dtype=torch.float64)
    ratio = torch.tensor([[1.0, 2.37, 0.5]], dtype=torch.float64)
    whole = phase_cycles(f0, SR, ratio=ratio)
    first = phase_cycles(f0[:, :600], SR, ratio=ratio)
    second = phase_cycles(f0[:, 600:], SR, ratio=ratio, start=next_phase(f0[:, :600], SR, ratio=ratio))
    d = torch.cat([first, second], dim=-1) - whole
    assert (d - d.round()).abs().max() < 1e-9  # equal as phases (modulo whole cycles)


@pytest.mark.parametrize("name", ["ddx7", "hpn"])
def test_decoder_shapes_loss_and_gradients(name):
    model = build_model(name, **TINY[name])
    y = curves(64, batch=2)
    x = 0.1 * torch.randn(2, 1, 64 * model.hop)
    out = model(x, y)
    assert set(out) == {"loss", "spectral"} and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)
    assert model.render(y).shape == (2, 64 * model.hop)


def test_paper_sizes_ddx7_is_an_eighth_of_hpn():
    ddx7, hpn = build_model("ddx7"), build_model("hpn")
    n_ddx7, n_hpn = (sum(p.numel() for p in m.parameters()) for m in (ddx7, hpn))
    assert 0.25e6 < n_ddx7 < 0.5e6 and 4.0e6 < n_hpn < 4.6e6  # the paper: ≈ 0.4 M and ≈ 4.3 M
    assert n_ddx7 <= n_hpn / 8


def test_ddx7_streamed_in_blocks_equals_whole():
    torch.manual_seed(0)
    model = build_model("ddx7", channels=32).eval()
    with torch.no_grad():
        for p in model.parameters():  # levels that move: the untrained bias keeps them near silent
            p.add_(0.3 * torch.randn_like(p))
    c = curves(250).numpy()[0]
    whole = render_curves(model, c)
    assert np.abs(whole).max() > 0.05  # not silence
    for block in (8, 7, 64):  # 32 ms, an odd size, 256 ms
        # float32: the convolutions round differently on blocks of other lengths, and modulation indices up to 4
        # amplify a phase difference; in float64 the two are the same signal
        assert np.abs(render_curves(model, c, block_frames=block) - whole).max() <= 1e-3
    model.double()
    whole = render_curves(model, c)
    for block in (8, 7, 64):
        assert np.abs(render_curves(model, c, block_frames=block) - whole).max() <= 1e-9


def test_hpn_streams_with_its_state_carried():
    model = build_model("hpn", hidden=32).eval()
    with torch.no_grad():  # the harmonics only: the noise is drawn afresh in every block
        model.dense.bias[1 + model.cfg.n_harmonics:] = -30.0
    c = curves(100).numpy()[0]
    whole, streamed = render_curves(model, c), render_curves(model, c, block_frames=8)
    # the GRU state and the phase carry over; the controls are interpolated within each block, so not exactly
    assert np.corrcoef(whole, streamed)[0, 1] > 0.99
    model.set_streaming(True)
    model.render(curves(8))
    model.set_streaming(False)
    assert model.state == {}  # turning streaming off forgets the stream


def test_bad_controls_are_refused():
    model = build_model("ddx7", **TINY["ddx7"])
    with pytest.raises(ParameterError, match="batch, 2, frames"):
        model.render(torch.ones(1, 3, 10))
    bad = curves(10)
    bad[0, 1, 3] = float("nan")
    with pytest.raises(ParameterError, match="NaN"):
        model.render(bad)
    with pytest.raises(ParameterError, match="whole frames"):
        build_model("ddx7", crop_samples=1000)
    with pytest.raises(ParameterError, match="6 operators"):
        build_model("ddx7", ratios=(1.0, 2.0))
    with pytest.raises(ParameterError, match="resample"):
        analyse(model, np.zeros(SR, dtype=np.float32), sr=22050)
    with pytest.raises(ParameterError, match="no pitch"):
        analyse(model, np.zeros(SR, dtype=np.float32), sr=SR)


def test_loudness_error_counts_the_note_not_the_silence():
    ref = np.array([-100.0, -100.0, -30.0, -36.0, -40.0])
    est = np.array([-60.0, -80.0, -30.0, -30.0, -40.0])
    assert loudness_error_db(ref, est) == pytest.approx(2.0)  # (0 + 6 + 0) / 3: the silent frames are left out


def test_control_data_lines_up_and_lists_unpitched_files(tmp_path):
    t = np.arange(int(1.3 * SR)) / SR
    for i, f0 in enumerate((196.0, 220.0, 247.0, 262.0, 294.0, 330.0, 349.0, 392.0, 440.0, 494.0, 523.0)):
        sf.write(tmp_path / f"note{i:02d}.wav", 0.3 * np.sin(2 * np.pi * f0 * t) * np.minimum(1, 5 * t), SR)
    sf.write(tmp_path / "silence.wav", np.zeros(SR), SR)
    data = prepare_controls(f"folder:{tmp_path}", sr=SR, crop_samples=4096, control_rate_hz=250, f0_method="yin")
    assert any("silence.wav" in p and "no pitch" in why for p, why in data.failures)
    assert len(data.file_split["test"]) >= 1  # a folder holds out every tenth file for testing
    x, y = data.batch(data.rows("train")[:3], seed=(0, 0, 0))
    assert x.shape == (3, 1, 4096) and y.shape == (3, 2, 64)
    for row in range(3):  # each crop's f0 curve is that crop's pitch
        f0 = float(np.median(y[row, 0].numpy()))
        spectrum = np.abs(np.fft.rfft(x[row, 0].numpy()))
        assert abs(np.argmax(spectrum) * SR / 4096 - f0) < 2 * SR / 4096
    with pytest.raises(DatasetError, match="no clip has"):
        prepare_controls("instruments", profile="quick", sr=SR, crop_samples=4096, control_rate_hz=250,
                         clips="instrument=Kazoo")
    with pytest.raises(ConfigError, match="--clips must look like"):
        prepare_controls("instruments", profile="quick", sr=SR, crop_samples=4096, control_rate_hz=250,
                         clips="Violin")


def test_train_evaluate_and_time_a_decoder_on_instrument_notes(tmp_path):
    result = train_model("ddx7", data="instruments", profile="quick", clips="instrument=Violin", out=tmp_path / "run",
                         model_config=TINY["ddx7"], train={"epochs": 1, "batch_size": 4, "max_steps": 3, "progress": False})
    data = result.data
    assert data.f0_method == "swift-f0" and len(data.file_split["test"]) > 0
    assert (tmp_path / "run" / "export" / "model.safetensors").is_file()
    scores = evaluate_decoder(result.model, data, max_files=2)
    assert scores["n"] == 2 and np.isfinite(scores["mrstft"]) and scores["loudness_error_db"] >= 0
    assert realtime_factor(result.model, seconds=0.5, block_ms=32, repeats=1) > 0
    # the command: a tone resynthesized in 32 ms blocks, a file that is not audio listed at the end (exit 1)
    t = np.arange(SR) / SR
    sf.write(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 330 * t), SR)
    (tmp_path / "notes.txt").write_text("not audio")
    code = main(["synth", "resynthesize", str(tmp_path / "tone.wav"), str(tmp_path / "notes.txt"),
                 "--model", str(tmp_path / "run" / "export"), "--out", str(tmp_path / "re"), "--block-ms", "32"])
    assert code == 1
    y, sr = sf.read(tmp_path / "re" / "tone.wav")
    assert sr == SR and len(y) == SR and np.isfinite(y).all()
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    assert "mrstft" in (tmp_path / "run" / "test_metrics.json").read_text()
    with pytest.raises(ConfigError, match="--clips chooses"):
        train_model("cnn", "effect", profile="quick", clips="effect=clean", out=tmp_path / "cnn")
