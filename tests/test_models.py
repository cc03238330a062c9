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
