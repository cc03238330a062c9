"""Generative models, spectrogram inversion, latent tools and generation metrics: physical facts on synthetic
signals, the loss algebra of each model, and the CLI end to end on a tiny dataset."""
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from dl4mir import metrics as E
from dl4mir.errors import ConfigError
from dl4mir.generate import latent
from dl4mir.features.logmag import SPEC, griffin_lim
from dl4mir.metrics import spectral_convergence
from dl4mir.models import GENERATIVE, build_model

SR = SPEC.sr
T = np.arange(SPEC.n_samples) / SR
TINY = {"n_freq": 32, "n_frames": 16, "latent_dim": 4, "hidden": [32, 8], "channels": [4, 8], "n_classes": 3,
        "cond_dim": 4, "warmup_steps": 10}


def _tone(f0, decay=3.0):
    return (np.sin(2 * np.pi * f0 * T) * np.exp(-decay * T)).astype(np.float32)


# ---------------------------------------------------------------- representation and Griffin-Lim
def test_representation_shape_and_oracle_phase_inverse():
    y = np.stack([_tone(220.0), _tone(330.0)])
    logmag = SPEC.from_audio(y)
    assert logmag.shape == (2, 256, 64) and SPEC.n_samples == 16128
    phase = torch.angle(SPEC.stft(torch.from_numpy(y)))
    back = SPEC.to_audio(logmag, phase=phase).numpy()
    # only the dropped Nyquist bin and the amin offset differ: 30 dB below the signal
    assert np.sqrt(np.mean((back - y) ** 2)) < 0.03 * np.sqrt(np.mean(y ** 2))


def test_griffin_lim_converges_and_keeps_pitch():
    y = torch.from_numpy(np.stack([_tone(440.0), _tone(196.0)]))
    mag = SPEC.stft(y).abs()
    sc = {n: spectral_convergence(mag.numpy(), SPEC.stft(griffin_lim(mag, n_iter=n)).abs().numpy()) for n in (2, 64)}
    assert (sc[64] < sc[2]).all() and (sc[64] < 0.1).all()
    out = griffin_lim(mag, n_iter=64).numpy()
    for item, f0 in zip(out, (440.0, 196.0)):
        spectrum = np.abs(np.fft.rfft(item * np.hanning(len(item))))
        assert abs(np.argmax(spectrum) * SR / len(item) - f0) < 2.0  # phase is new, pitch is not


def test_griffin_lim_is_seeded_and_batched():
    mag = SPEC.stft(torch.from_numpy(np.stack([_tone(300.0), _tone(500.0)]))).abs()
    a, b = griffin_lim(mag, n_iter=4, seed=1), griffin_lim(mag, n_iter=4, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, griffin_lim(mag, n_iter=4, seed=2))
    # Zero phase makes every frame the same symmetric pulse: the output repeats exactly every hop, a buzz at the
    # frame rate (62.5 Hz) whatever the tone's pitch; Griffin-Lim's phase follows the tone's own period instead.
    def autocorrelation(y, lag=SPEC.hop_length):
        y = y.numpy()[:, 1024:-1024]
        a, b = y[:, :-lag], y[:, lag:]
        return (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))

    zeros = griffin_lim(mag, n_iter=0, init="zeros")
    assert zeros.shape == (2, SPEC.n_samples)
    assert (autocorrelation(zeros) > 0.99).all()
    tone_300 = np.cos(2 * np.pi * 300.0 * SPEC.hop_length / SPEC.sr)  # a 300 Hz sine's own correlation at that lag
    assert abs(autocorrelation(griffin_lim(mag, n_iter=64))[0] - tone_300) < 0.15
    assert abs(autocorrelation(griffin_lim(mag, n_iter=0, init="random"))[0]) < 0.3
    with pytest.raises(ValueError, match="init"):
        griffin_lim(mag, init="sideways")


# ---------------------------------------------------------------- metrics
def test_log_spectral_distance_of_a_known_gain_is_that_gain_in_db():
    x = np.random.default_rng(0).normal(size=(3, 8, 5))
    assert np.allclose(E.log_spectral_distance(x, x), 0.0)
    assert np.allclose(E.log_spectral_distance(x, x + math.log(2.0)), 20 * math.log10(2.0))  # 6.02 dB


def test_pairwise_lsd_matches_the_direct_formula():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 16, 6)), rng.normal(size=(5, 16, 6))
    direct = np.array([[E.log_spectral_distance(x, y) for y in b] for x in a])
    assert np.allclose(E.pairwise_lsd(a, b, chunk=3), direct, atol=1e-4)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20000, 3))
    assert E.frechet_distance(a, rng.normal(size=(20000, 3))) < 0.01
    assert abs(E.frechet_distance(a, rng.normal(size=(20000, 3)) + [2.0, 0.0, 0.0]) - 4.0) < 0.1
    # 1-D: (σ1 − σ2)² for the covariance part
    assert abs(E.frechet_distance(a[:, :1], 3.0 * rng.normal(size=(20000, 1))) - 4.0) < 0.15
    with pytest.raises(ValueError):
        E.frechet_distance(a, a[:, :2])


def test_diversity_and_memorization_flags():
    rng = np.random.default_rng(3)
    train, heldout = rng.normal(size=(30, 8, 4)), rng.normal(size=(10, 8, 4))
    assert E.diversity(np.repeat(train[:1], 5, axis=0)) == 0.0  # mode collapse
    assert E.diversity(train) > 0
    copies = E.nearest_neighbour_ratio(train[:10], train, heldout)
    assert copies["median_ratio"] < 1e-6 and copies["fraction_closer_than_any_heldout"] == 1.0
    fresh = E.nearest_neighbour_ratio(rng.normal(size=(10, 8, 4)), train, heldout)
    assert 0.7 < fresh["median_ratio"] < 1.3


def test_kl_and_active_units():
    mu = np.zeros((100, 4))
    mu[:, 0] = np.random.default_rng(4).normal(size=100)
    assert E.active_units(mu) == 1
    kl = E.kl_per_dimension(mu, np.zeros((100, 4)))
    assert kl[1:].tolist() == [0.0, 0.0, 0.0] and kl[0] > 0.3


def test_multi_resolution_stft_distance_is_zero_only_for_equal_audio():
    y = np.stack([_tone(220.0), _tone(440.0)])
    assert E.multi_resolution_stft_distance(y, y) < 1e-3
    assert E.multi_resolution_stft_distance(y, y[::-1].copy()) > 0.5


# ---------------------------------------------------------------- models
@pytest.mark.parametrize("name", GENERATIVE)
def test_tiny_generative_model_has_a_finite_loss_gradients_and_exports(name, tmp_path):
    from dataclasses import asdict

    from dl4mir.train.checkpoint import export, load_exported

    model = build_model(name, seed=0, **TINY)
    x, c = torch.randn(5, 32, 16), torch.tensor([0, 1, 2, 0, 1])
    out = model(x, c, step=3)
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    export(model, tmp_path, {"model": model.registry_name, "model_config": asdict(model.cfg)})
    loaded, _ = load_exported(tmp_path)
    model.eval()
    torch.manual_seed(0)
    a = model.sample(2, c[:2]) if name == "gan" else model.reconstruct(x, c)
    torch.manual_seed(0)
    b = loaded.sample(2, c[:2]) if name == "gan" else loaded.reconstruct(x, c)
    torch.testing.assert_close(a, b)
    assert a.shape[1:] == (32, 16)


def test_only_conditional_models_keep_n_classes():
    assert build_model("cvae", **TINY).cfg.n_classes == 3
    assert build_model("conv-vae", **TINY).cfg.n_classes == 0


def test_vae_kl_warm_up_and_free_bits():
    vae = build_model("vae", **{**TINY, "free_bits": 0.5, "beta": 2.0})
    assert vae.beta_at(0) == 0.0 and vae.beta_at(5) == 1.0 and vae.beta_at(100) == 2.0
    x = torch.randn(8, 32, 16)
    vae.eval()  # posterior mean, no sampling noise
    out0, out_late = vae(x, step=0), vae(x, step=100)
    cells = 32 * 16
    # at step 0 the loss is reconstruction only; later β · max(KL_j, free bits) is added
    recon = ((vae.reconstruct(x) - x) ** 2).flatten(1).sum(1).mean() / (2 * vae.cfg.recon_sigma ** 2) / cells
    torch.testing.assert_close(out0["loss"], recon)
    mu, logvar = vae.posterior(x)
    kl_dims = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).mean(0)
    torch.testing.assert_close(out_late["loss"], recon + 2.0 * kl_dims.clamp_min(0.5).sum() / cells)
    torch.testing.assert_close(out_late["kl"], kl_dims.sum())
    # the logged terms add up to the loss, and validation (step=None) scores the full β whatever the warm-up
    for out in (out0, out_late, vae(x, step=None)):
        torch.testing.assert_close(out["recon"] + out["beta_kl"], out["loss"])
    assert float(out0["beta_t"]) == 0.0 and float(vae(x, step=None)["beta_t"]) == 2.0
    torch.testing.assert_close(vae(x, step=None)["loss"], out_late["loss"])


def test_gan_losses_move_only_their_own_player():
    gan = build_model("gan", **TINY)
    out = gan(torch.randn(4, 32, 16), torch.tensor([0, 1, 2, 0]))
    out["loss_g"].backward(retain_graph=True)
    assert all(p.grad is None for p in gan.discriminator.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in gan.generator.parameters())
    gan.zero_grad(set_to_none=True)
    out["loss_d"].backward()
    assert all(p.grad is None for p in gan.generator.parameters())
    assert all(p.requires_grad for p in gan.discriminator.parameters())  # frozen only inside forward


def test_denoising_autoencoder_corrupts_only_in_training():
    dae = build_model("denoising-ae", **TINY)
    x = torch.randn(4, 32, 16)
    dae.eval()
    assert torch.equal(dae(x)["loss"], dae(x)["loss"])
    dae.train()
    torch.manual_seed(0)
    a = dae(x)["loss"]
    torch.manual_seed(1)
    assert not torch.equal(a, dae(x)["loss"])


# ---------------------------------------------------------------- latent tools
def test_interpolation_ends_at_the_two_reconstructions_and_slerp_keeps_the_norm():
    ae = build_model("conv-ae", **TINY).eval()
    x = torch.randn(2, 32, 16).numpy()
    Z, path = latent.interpolate(ae, x[0], x[1], steps=5)
    assert path.shape == (5, 32, 16)
    np.testing.assert_allclose(path[[0, -1]], latent.reconstruct(ae, x), atol=1e-5)
    a, b = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    assert abs(np.linalg.norm(latent.slerp(a, b, 0.5)) - 3.0) < 1e-9
    with pytest.raises(ConfigError):
        latent.interpolate(ae, x[0], x[1], steps=1)


def test_attribute_vector_and_its_errors():
    Z = np.array([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    labels = np.array(["clean", "clean", "chorus", "chorus"])
    np.testing.assert_allclose(latent.attribute_vector(Z, labels, source="clean", target="chorus"), [4.0, 0.0])
    with pytest.raises(ConfigError, match="flanger"):
        latent.attribute_vector(Z, labels, source="clean", target="flanger")


def test_standardization_round_trip_and_latent_map():
    norm = {"mean": [1.0, 2.0], "std": [2.0, 0.5]}
    x = np.random.default_rng(5).normal(size=(3, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(latent.from_raw(latent.to_raw(x, norm), norm), x, atol=1e-6)
    assert latent.latent_map(np.random.default_rng(6).normal(size=(20, 5))).shape == (20, 2)
    with pytest.raises(ConfigError):
        latent.latent_map(np.zeros((4, 3)), method="tsne-3000")


# ---------------------------------------------------------------- configs
def test_toml_config_and_overrides(tmp_path):
    from dl4mir.train import resolve_settings as training_config

    good = tmp_path / "vae.toml"
    good.write_text("[model]\nlatent_dim = 8\nbeta = 0.5\n[train]\nepochs = 3\n")
    assert training_config("vae", config=good, overrides=["lr=0.01", "free_bits=0"]) == (
        {"latent_dim": 8, "beta": 0.5, "free_bits": 0}, {"epochs": 3, "lr": 0.01})
    typo = tmp_path / "typo.toml"
    typo.write_text("[model]\nlatent_dims = 8\n")
    with pytest.raises(ConfigError, match=r"typo.toml.*latent_dims"):
        training_config("vae", config=typo)
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        training_config("vae", config=broken)
    with pytest.raises(ConfigError, match="--set"):
        training_config("vae", overrides=["nonsense=1"])


# ---------------------------------------------------------------- the loop and the CLI, end to end
def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "dl4mir", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.mark.slow
def test_train_and_generate_from_the_command_line(quick_guitar_fx, tmp_path):
    for model in ("cvae", "conv-ae"):
        p = _cli("train", model, "--profile", "quick", "--max-steps", "2", "--batch-size", "8", "--set", "latent_dim=4",
                 "--out", str(tmp_path / model), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert "recon_mse" in p.stdout and (tmp_path / model / "export" / "model.safetensors").is_file()
    cvae, ae = tmp_path / "cvae" / "export", tmp_path / "conv-ae" / "export"
    p = _cli("generate", "sample", "--model", str(cvae), "--condition", "chorus", "--n", "2", "--n-iter", "4",
             "--out", str(tmp_path / "s"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in (tmp_path / "s").iterdir()) == [
        "sample_chorus_seed0_00.wav", "sample_chorus_seed0_01.wav", "samples_chorus_seed0.png"]
    import soundfile as sf

    info = sf.info(str(tmp_path / "s" / "sample_chorus_seed0_00.wav"))
    assert info.samplerate == SR and info.frames == SPEC.n_samples
    # without --out, every invocation gets its own folder: nothing made earlier is overwritten
    for condition in ("chorus", "clean", "clean"):
        p = _cli("generate", "sample", "--model", str(cvae), "--condition", condition, "--n", "1", "--n-iter", "2",
                 cwd=tmp_path)
        assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in (tmp_path / "runs" / "generate").iterdir()) == [
        "sample-chorus-seed0", "sample-clean-seed0", "sample-clean-seed0-2"]

    clips = [c.path for c in quick_guitar_fx.clips[:2]]
    y, sr = sf.read(str(clips[1]))
    clips[1] = tmp_path / "long.wav"  # 3 s: cut to the model's length, and said so
    sf.write(str(clips[1]), np.tile(y, 3), sr)
    p = _cli("generate", "interpolate", *map(str, clips), "--model", str(ae), "--steps", "3", "--n-iter", "2",
             "--out", str(tmp_path / "i"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    what = f"{clips[0].stem}_to_{clips[1].stem}_linear"
    assert (tmp_path / "i" / f"{what}.wav").is_file() and (tmp_path / "i" / f"{what}.png").is_file()
    assert (tmp_path / "i" / f"{what}_step02.wav").is_file()
    assert f"note: {clips[1]}: 3.00 s long; only its first 1.008 s is used" in p.stdout
    assert f"note: {clips[0]}" not in p.stdout

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    p = _cli("generate", "transfer", str(clips[0]), str(bad), "--model", str(cvae), "--from", "clean", "--to", "chorus",
             "--n-iter", "2", "--out", str(tmp_path / "t"), cwd=tmp_path)
    assert p.returncode == 1 and "bad.wav" in p.stdout and (tmp_path / "t" / f"{clips[0].stem}_clean_to_chorus.wav").is_file()

    for args, message in ((("sample", "--model", str(cvae), "--condition", "wah"), "unknown condition 'wah'"),
                          (("sample", "--model", str(ae)), "no prior"),
                          (("sample", "--model", str(tmp_path / "nowhere")), "not found")):
        p = _cli("generate", *args, "--out", str(tmp_path / "x"), cwd=tmp_path)
        assert p.returncode == 2 and message in p.stderr, p.stderr
