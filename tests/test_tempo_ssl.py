"""Self-supervised tempo: the views' physics, the equivariance loss by hand, calibration, and that training on
unlabelled grooves makes the codes follow tempo changes."""
import numpy as np
import pytest
import torch

from dl4mir.errors import ParameterError
from dl4mir.models import build_model
from dl4mir.models.tempo_ssl import calibrate, stretch, to_bpm


def _click_envelope(period_frames: float, n: int = 500) -> torch.Tensor:
    """Onset bumps (Gaussian, 1.5 frames wide, like a real onset envelope's) every ``period_frames``."""
    t = torch.arange(n, dtype=torch.float32)
    return sum(torch.exp(-0.5 * ((t - c) / 1.5) ** 2) for c in np.arange(0, n, period_frames))


def _best_lag(env: torch.Tensor, lo: int = 5) -> int:
    x = env - env.mean()
    ac = torch.fft.irfft(torch.fft.rfft(x, n=2 * len(x)).abs() ** 2)[: len(x) // 2]
    return int(torch.argmax(ac[lo:])) + lo


@pytest.mark.parametrize("ratio", [0.7, 1.0, 1.4])
def test_a_stretched_view_has_the_tempo_times_the_ratio(ratio):
    env = _click_envelope(30.0)[None]  # 30 frames per beat: 86 BPM
    view = stretch(env, torch.tensor([ratio]), 300)[0]
    assert abs(_best_lag(view) - 30.0 / ratio) <= 1.0


def test_equivariance_loss_by_hand():
    model = build_model("tempo-ssl", n_frames=300).eval()
    env = torch.rand(3, 1, 300)
    out = model(env)
    u = (torch.rand(3, generator=torch.Generator().manual_seed(0)) * 2 - 1) * model.cfg.max_log2_stretch
    a = env[:, 0, : model.view_frames]
    b = stretch(env[:, 0], 2.0 ** u, model.view_frames)
    diff = model.tempo_code(b) - model.tempo_code(a)
    err = diff - u
    by_hand = torch.where(err.abs() <= 0.25, 0.5 * err ** 2, 0.25 * (err.abs() - 0.125)).mean()
    torch.testing.assert_close(out["equivariance"], by_hand)
    p = model.tempo_distribution(torch.cat([a, b]))
    entropy = -(p * p.log()).sum(1).mean()
    torch.testing.assert_close(out["loss"], by_hand + model.cfg.entropy_weight * entropy)
    codes = model.tempo_code(a)  # a soft argmax: always inside the grid's log2-BPM range
    assert torch.all((codes >= np.log2(model.cfg.min_bpm)) & (codes <= np.log2(model.cfg.max_bpm)))


def test_calibration_takes_the_majority_metrical_level():
    rng = np.random.default_rng(0)
    bpm = np.exp(rng.uniform(np.log(60), np.log(200), 20))
    codes = np.log2(bpm) - 0.3 + rng.normal(0, 0.01, 20)
    codes[:6] += 1.0  # six clips coded an octave up (double tempo)
    coef = calibrate(codes, bpm)
    np.testing.assert_allclose(to_bpm(codes[6:], coef), bpm[6:], rtol=0.03)
    assert np.allclose(to_bpm(codes[:6], coef) / bpm[:6], 2.0, rtol=0.03)
    with pytest.raises(ParameterError, match="needs more than 1 labelled"):
        calibrate(codes[:1], bpm[:1], degree=1)


def test_training_without_labels_makes_codes_follow_tempo(_dl4mir_home, tmp_path):
    from dl4mir.train import train_model

    base = train_model("tempo-ssl", "tempo", profile="quick", out=tmp_path / "untrained", resume="fresh",
                       train={"epochs": 1, "max_steps": 1, "lr": 1e-9, "progress": False})
    trained = train_model("tempo-ssl", "tempo", profile="quick", out=tmp_path / "ssl", resume="fresh",
                          train={"epochs": 30, "batch_size": 16, "lr": 2e-3, "patience": 99, "progress": False})
    # the tempo ratio between two views of unseen grooves: error in octaves, before and after training
    assert trained.summary["test"]["abs_error_octaves"] < 0.8 * base.summary["test"]["abs_error_octaves"]
    best_val = min(e["val_abs_error_octaves"] for e in trained.summary["epoch_log"])
    assert best_val < 0.1  # within 7 % of the ratio (quick profile; measured ≈ 0.06)
    assert trained.model.cfg.frame_rate_hz == pytest.approx(22050 / 512)  # taken from the data's onset feature
