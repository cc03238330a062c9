"""Self-supervised pitch: the constant-Q transform's physics, the pitch metrics against mir_eval, the loss by hand,
and that training on unlabelled notes then calibrating with 20 labels names held-out notes."""
import numpy as np
import pytest
import torch

from dl4mir.data.egfxset import midi_to_hz
from dl4mir.errors import ParameterError
from dl4mir.features.spectral import cqt, cqt_frequencies
from dl4mir.metrics import pitch_accuracy
from dl4mir.models import build_model
from dl4mir.models.equivariance import shift_bins
from dl4mir.models.pitch_ssl import calibrate, to_midi
from test_tempo_ssl import _shifted_ce_by_hand

SR = 16000


@pytest.mark.parametrize("k", [10, 60, 130])
def test_a_sine_at_a_bins_frequency_peaks_there_and_an_octave_is_bins_per_octave_higher(k):
    freqs = cqt_frequencies(n_bins=168, fmin_hz=32.70, bins_per_octave=24)
    t = np.arange(SR) / SR
    for bin_, f in ((k, freqs[k]), (k + 24, 2 * freqs[k])):
        C = cqt(0.6 * np.sin(2 * np.pi * f * t), sr=SR, n_bins=168, bins_per_octave=24)
        mid = C[:, C.shape[1] // 2]
        assert mid.argmax() == bin_
        assert mid.max() == pytest.approx(0.3, rel=0.02)  # half the amplitude, at every bin


def test_cqt_peaks_agree_with_librosa_and_batches_and_refuses_bins_above_nyquist():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    for f in rng.uniform(40, 3000, 5):
        y = np.sin(2 * np.pi * f * t)
        ours = cqt(y, sr=SR, n_bins=84, bins_per_octave=12)[:, 10]
        ref = np.abs(librosa.cqt(y=y, sr=SR, fmin=32.70, n_bins=84, bins_per_octave=12, hop_length=512))[:, 10]
        assert ours.argmax() == ref.argmax()
    batch = rng.normal(size=(2, 3, SR // 2))
    np.testing.assert_allclose(cqt(batch, sr=SR)[1, 2], cqt(batch[1, 2], sr=SR), atol=1e-12)
    with pytest.raises(ParameterError, match="sr/2"):
        cqt(batch[0, 0], sr=SR, n_bins=200, bins_per_octave=24)


def test_pitch_accuracy_matches_mir_eval():
    melody = pytest.importorskip("mir_eval.melody")
    rng = np.random.default_rng(1)
    ref = 440 * 2 ** rng.uniform(-2, 2, 200)
    est = ref * 2 ** (rng.normal(0, 60, 200) / 1200) * rng.choice([1, 1, 1, 2, 0.5], 200)
    est[:10] = 0  # said unvoiced
    ours = pitch_accuracy(ref, est)
    ref_c, est_c = melody.hz2cents(ref), melody.hz2cents(np.maximum(est, 0))
    voiced = np.ones(200), (est > 0).astype(float)
    args = (voiced[0], ref_c, voiced[1], est_c)
    assert ours["rpa"] == pytest.approx(melody.raw_pitch_accuracy(*args, cent_tolerance=50))
    assert ours["rca"] == pytest.approx(melody.raw_chroma_accuracy(*args, cent_tolerance=50))
    with pytest.raises(ParameterError, match="positive"):
        pitch_accuracy([0.0], [440.0])


def test_pitch_ssl_loss_by_hand_and_its_shift_is_a_pitch_shift():
    model = build_model("pitch-ssl").eval()
    x = torch.rand(3, 168, 4)
    out = model(x)
    k = (torch.rand(3, generator=torch.Generator().manual_seed(0)) * 2 - 1) * model.cfg.max_shift_bins
    a = x.mean(-1)
    by_hand = _shifted_ce_by_hand(model.logits(a), model.logits(shift_bins(a, k)), k)
    assert float(out["equivariance"].detach()) == pytest.approx(by_hand, rel=1e-4)
    # a harmonic spectrum moved up 24 bins is the note an octave up: same partials, each one octave higher
    freqs = cqt_frequencies(n_bins=168, fmin_hz=32.70, bins_per_octave=24)
    note = lambda f0: torch.tensor(sum(np.exp(-0.5 * ((np.log2(freqs / (h * f0)) * 24) ** 2)) / h  # noqa: E731
                                       for h in range(1, 6)), dtype=torch.float32)[None]
    torch.testing.assert_close(shift_bins(note(110.0), torch.tensor([24.0])), note(220.0), atol=2e-3, rtol=0)


def test_calibration_offset_and_errors():
    codes = np.array([50.0, 60.0, 70.0, 80.0])
    np.testing.assert_allclose(to_midi(codes, calibrate(codes, codes - 12.0)), codes - 12.0)
    with pytest.raises(ParameterError, match="more than 1"):
        calibrate(codes[:1], codes[:1], degree=1)


def test_training_without_labels_then_20_labels_names_held_out_notes(_dl4mir_home, tmp_path):
    from dl4mir.train import train_model
    from dl4mir.train.data import prepare

    data = prepare("pitch", input_kind="cqt", profile="quick")
    assert data.input_shape()["n_bins"] == 168 and data.norm["kind"].startswith("per-clip")
    trained = train_model("pitch-ssl", data, out=tmp_path / "pitch", resume="fresh",
                          train={"epochs": 6, "batch_size": 32, "lr": 2e-3, "patience": 99, "progress": False})
    midi = np.asarray(data.labels["midi"], dtype=float)
    train, held_out = data.rows("train"), data.rows("val")
    pick = np.random.default_rng(0).choice(train, 20, replace=False)
    with torch.no_grad():
        codes = trained.model.eval().pitch_code(data.X).numpy()
    est = to_midi(codes[held_out], calibrate(codes[pick], midi[pick]))
    assert pitch_accuracy(midi_to_hz(midi[held_out]), midi_to_hz(est))["rpa"] >= 0.9
