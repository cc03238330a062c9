"""Every model family built at tiny size: output shapes, a finite loss, gradients everywhere, export round trip."""
import pytest
import torch

from dl4mir.errors import ConfigError
from dl4mir.models import CLASSIFIERS, build_model, input_kind
from dl4mir.train.checkpoint import export, load_exported

TINY = {"n_mels": 16, "n_frames": 24, "n_classes": 5, "channels": [4, 8], "hidden": 8, "d_model": 16,
        "n_heads": 2, "n_layers": 1, "stem_channels": 4}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_tiny_model_trains_and_exports(name, tmp_path):
    model = build_model(name, seed=1, **TINY)
    x = torch.randn(3, 1, 2000) if input_kind(name) == "waveform" else torch.randn(3, 16, 24)
    out = model(x)
    assert out.shape == (3, 5)
    loss = torch.nn.functional.cross_entropy(out, torch.tensor([0, 1, 4]))
    assert torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)
    from dataclasses import asdict

    export(model, tmp_path, {"model": name, "model_config": asdict(model.cfg)})
    loaded, _ = load_exported(tmp_path)
    model.eval()
    torch.testing.assert_close(loaded(x), model(x))


def test_weights_are_seeded():
    a, b, c = (build_model("cnn", seed=s, n_classes=3) for s in (7, 7, 8))
    assert torch.equal(a.head.weight, b.head.weight) and not torch.equal(a.head.weight, c.head.weight)


def test_unknown_model():
    with pytest.raises(ConfigError, match="unknown model"):
        build_model("resnet-9000")


def test_band_mean_input_norm_ignores_a_fixed_eq_and_bad_values_are_named():
    """A fixed EQ (one guitar, pickup or DI box against another) adds a constant per band to a log-mel
    spectrogram; with ``input_norm="band mean"`` the CNN's answer does not move, without it it does."""
    from dl4mir.errors import ParameterError

    x = torch.randn(2, 16, 24)
    eq = torch.linspace(-12, 12, 16)[None, :, None]
    for norm, same in (("band mean", True), ("none", False)):
        model = build_model("cnn", seed=0, n_mels=16, n_classes=5, channels=[4, 8], input_norm=norm).eval()
        with torch.no_grad():
            assert torch.allclose(model(x), model(x + eq), atol=1e-5) is same
    with pytest.raises(ParameterError, match="input_norm"):
        build_model("cnn", n_mels=16, n_classes=5, input_norm="instance")
