"""Self-supervised tempo: the views' physics, the equivariance loss by hand, calibration, and that training on
unlabelled grooves makes the codes follow tempo changes."""
import numpy as np
import pytest
import torch

from dl4mir.errors import ParameterError
from dl4mir.models import build_model
from dl4mir.metrics import tempo_accuracy
from dl4mir.models.equivariance import peak_bin
from dl4mir.models.tempo_ssl import TempoSSLConfig, calibrate, periodicity, stretch, tempo_grid, to_bpm


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


def _shifted_ce_by_hand(la, lb, k):
    """The shifted cross-entropy written out bin by bin (numpy), as the docstring of models.equivariance says."""
    la, lb, k = la.detach().double().numpy(), lb.detach().double().numpy(), k.double().numpy()
    soft = lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()  # noqa: E731
    total = 0.0
    for za, zb, kk in zip(la, lb, k):
        pa, pb = soft(za), soft(zb)
        n = len(pa)

        def moved(p, shift):  # out[i] = p[i - shift], linear interpolation, 0 outside
            out = np.zeros(n)
            for i in range(n):
                src = i - shift
                j = int(np.floor(src))
                f = src - j
                out[i] = (p[j] if 0 <= j < n else 0) * (1 - f) + (p[j + 1] if 0 <= j + 1 < n else 0) * f
            return out

        total += -(moved(pa, kk) * np.log(pb)).sum() - (moved(pb, -kk) * np.log(pa)).sum()
    return total / len(la)


def test_equivariance_loss_by_hand():
    model = build_model("tempo-ssl", n_frames=300).eval()
    env = torch.rand(3, 1, 300)
    out = model(env)
    u = (torch.rand(3, generator=torch.Generator().manual_seed(0)) * 2 - 1) * model.cfg.max_log2_stretch
    la = model.logits(env[:, 0])
    lb = model.logits(stretch(env[:, 0], 2.0 ** u, model.view_frames))
    by_hand = _shifted_ce_by_hand(la, lb, u * model.cfg.bins_per_octave)
    assert float(out["equivariance"].detach()) == pytest.approx(by_hand, rel=1e-4)
    p = torch.cat([la, lb]).softmax(1)
    entropy = -(p * p.log()).sum(1).mean()
    torch.testing.assert_close(out["loss"], out["equivariance"] + model.cfg.entropy_weight * entropy)


def test_periodicity_peaks_at_the_tempo_and_a_stretch_shifts_it():
    cfg = TempoSSLConfig(n_frames=500)
    grid = tempo_grid(cfg).numpy()
    env = _click_envelope(30.0)[None]  # 30 frames per beat at 43.07 frames/s: 86.1 BPM
    for ratio in (1.0, 1.5):
        view = stretch(env, torch.tensor([ratio]), 300)
        p = periodicity(view, cfg)[0, 0].numpy()
        peaks = np.flatnonzero((p[1:-1] >= p[:-2]) & (p[1:-1] >= p[2:]) & (p[1:-1] > 0.9 * p.max())) + 1
        fastest = grid[peaks.max()]  # the autocorrelation also peaks at ½, ⅓ … of the tempo
        assert abs(np.log2(fastest / (86.13 * ratio))) < 1.5 / cfg.bins_per_octave
    with pytest.raises(ParameterError, match="representation"):
        TempoSSLConfig(representation="wavelet")


def test_codes_decode_the_peak_bin():
    model = build_model("tempo-ssl", n_frames=300)
    logits = torch.full((2, len(model.log2_bpm)), -10.0)
    logits[0, 40] = 5.0
    logits[1, 70:72] = 5.0  # two equal bins: the parabola puts the peak between them
    np.testing.assert_allclose(peak_bin(logits).numpy(), [40.0, 70.5], atol=1e-4)


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


@pytest.mark.parametrize("order", [1, -1])
def test_calibration_tie_between_levels_takes_one_level_and_keeps_every_clip_within_acc2(order):
    """What a trained model gave: 9 labelled grooves coded on their beat, 9 on their eighth notes, 2 on their
    quarter-of-beat level below the first group.  The offset must be one of the two tied levels (not the median
    of both, half an octave off everything), and the one that puts no labelled groove two octaves away."""
    rng = np.random.default_rng(1)
    bpm = np.exp(rng.uniform(np.log(60), np.log(200), 20))
    level = np.array([0.0] * 9 + [1.0] * 9 + [-1.0] * 2)[::order]  # octaves above the beat, before the offset
    codes = np.log2(bpm) + level + 0.35 + rng.normal(0, 0.005, 20)
    ratio = to_bpm(codes, calibrate(codes, bpm)) / bpm
    assert np.allclose(ratio[level == 0], 1.0, rtol=0.03)  # the beat level, whose offset keeps all within ×2
    assert np.allclose(ratio[level == 1], 2.0, rtol=0.03) and np.allclose(ratio[level == -1], 0.5, rtol=0.03)


def test_training_without_labels_makes_one_consistent_tempo_axis(_dl4mir_home, tmp_path):
    from dl4mir.train import train_model
    from dl4mir.train.data import prepare

    data = prepare("tempo", input_kind="onset", profile="quick")

    def run(name, epochs, lr):
        return train_model(name, data, out=tmp_path / f"{name}{epochs}", resume="fresh",
                           train={"epochs": epochs, "batch_size": 16, "lr": lr, "patience": 99, "progress": False})
    base, trained = run("tempo-ssl", 1, 1e-9), run("tempo-ssl", 8, 2e-3)
    assert trained.summary["test"]["equivariance"] < 0.6 * base.summary["test"]["equivariance"]
    assert trained.summary["test"]["entropy"] < 0.5 * base.summary["test"]["entropy"]  # one level per groove
    assert trained.model.cfg.frame_rate_hz == pytest.approx(22050 / 512)  # taken from the data's onset feature
    bpm = np.asarray(data.labels["tempo_bpm"], dtype=float)
    train = data.rows("train")
    with torch.no_grad():
        codes = trained.model.eval().tempo_code(data.X).numpy()
    acc = tempo_accuracy(bpm, to_bpm(codes, calibrate(codes[train], bpm[train])))
    assert acc["acc2"] >= 0.75  # right up to a metrical level (quick profile; measured 0.9)
    # the same network on the labels: its tempo in BPM directly (measured Acc1 0.75 on the 12 test grooves)
    cnn = run("tempo-cnn", 20, 2e-3)
    assert cnn.model.cfg.target_std > 1  # the runner gave it the label scale
    test = data.rows("test")
    with torch.no_grad():
        assert tempo_accuracy(bpm[test], cnn.model.eval().bpm(data.X[test]).numpy())["acc1"] >= 0.5

    # `dl4mir tempo --model`: the exported tempo-cnn on whole files, failures listed; a tempo-ssl export refused
    from dl4mir.cli import main
    from dl4mir.data import get_dataset
    from dl4mir.errors import ConfigError
    from dl4mir.train.predict import tempo_files

    clips = [c for c in get_dataset("rhythms", profile="quick").clips if c.clip_id in
             {data.clip_ids[r] for r in data.rows("test")}]
    out = tempo_files(cnn.folder.export_dir, [c.path for c in clips])  # the median over windows of whole files
    assert tempo_accuracy([c.labels["tempo_bpm"] for c in clips], [out.ok[str(c.path)] for c in clips])["acc1"] >= 0.5
    bad = tmp_path / "empty.wav"
    bad.write_bytes(b"")
    assert main(["tempo", "--model", str(cnn.folder.export_dir), str(clips[0].path), str(bad)]) == 1
    with pytest.raises(ConfigError, match="up to an offset"):
        tempo_files(trained.folder.export_dir, [clips[0].path])


def test_label_stretch_is_the_stretched_clip_with_its_label_moved():
    """tempo-cnn's augmentation: in training, each clip is played 2**u times faster and its label × 2**u — the same
    loss as giving it that stretched clip and label by hand (same draw of u, same weights, same batch)."""
    env = torch.stack([_click_envelope(p, 517) for p in (20.0, 31.0, 45.0)])
    bpm = torch.tensor([129.2, 83.4, 57.4])
    cfg = dict(n_frames=517, supervised=True, target_mean=100.0, target_std=40.0)
    stretched, plain = build_model("tempo-cnn", **cfg), build_model("tempo-cnn", **cfg, label_stretch=False)
    plain.load_state_dict(stretched.state_dict())
    torch.manual_seed(3)
    loss = stretched.train()(env, (bpm - 100.0) / 40.0)["loss"]
    torch.manual_seed(3)
    u = (torch.rand(3) * 2 - 1) * stretched.cfg.max_log2_stretch
    by_hand = plain.train()(stretch(env, 2.0 ** u, stretched.view_frames), (bpm * 2.0 ** u - 100.0) / 40.0)["loss"]
    assert u.abs().max() > 0.1 and loss.item() == pytest.approx(by_hand.item(), rel=1e-5)
    with torch.no_grad():  # and inference reads the clip as it is
        assert torch.equal(stretched.eval().bpm(env), plain.eval().bpm(env))
