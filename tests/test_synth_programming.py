"""The differentiable synthesizers (issue 14): physical facts on their outputs, gradients, and patch files.

Tolerances: analytic FM to 1e-8 in float64 (the phase summed over 16,000 samples); pitch (dl4mir's YIN, median over the sustained part) within 5 cents;
the low-pass −3.01 dB at its cutoff within 0.5 dB; aliasing shares measured on 1 s notes with 1 Hz FFT bins."""
import json
import math

import numpy as np
import pytest
import torch

from dl4mir.errors import ConfigError, ParameterError
from dl4mir.features import spectral as F
from dl4mir.synth import fm as FM
from dl4mir.synth import patches
from dl4mir.synth.dsp import framewise_fir, phase_cycles
from dl4mir.synth.envelopes import adsr
from dl4mir.synth.harmonic_noise import filtered_noise, harmonic
from dl4mir.synth.subtractive import lowpass, oscillator

SR = 16000


def t64(*values):
    return torch.tensor([values], dtype=torch.float64)


def test_one_fm_operator_pair_is_chowning_fm_and_a_stack_nests_it():
    n = SR
    t = torch.arange(n, dtype=torch.float64) / SR
    y = FM.fm(f0_hz=torch.tensor([220.0], dtype=torch.float64), ratios=t64(1.0, 2.0), levels=t64(0.7, 2.5),
              sample_rate=SR, n_samples=n, algorithm="2op", band_limit=False)
    expected = 0.7 * torch.sin(2 * math.pi * 220 * t + 2.5 * torch.sin(2 * math.pi * 440 * t))
    assert (y[0] - expected).abs().max() < 1e-8
    levels = t64(0.5, 1.5, 0.8, 0.5, 1.0, 2.0)
    y = FM.fm(f0_hz=torch.tensor([110.0], dtype=torch.float64), ratios=t64(1, 3, 5, 2, 1, 4), levels=levels,
              sample_rate=SR, n_samples=n, algorithm="2x3", band_limit=False)
    s = lambda r: torch.sin(2 * math.pi * 110 * r * t)  # noqa: E731
    stack1 = 0.5 * torch.sin(2 * math.pi * 110 * t + 1.5 * torch.sin(2 * math.pi * 330 * t + 0.8 * s(5)))
    stack2 = 0.5 * torch.sin(2 * math.pi * 220 * t + 1.0 * torch.sin(2 * math.pi * 110 * t + 2.0 * s(4)))
    assert (y[0] - stack1 - stack2).abs().max() < 1e-8
    assert FM.carriers("2x3") == [0, 3] and FM.carriers("3x2") == [0, 2, 4] and FM.carriers("additive") == list(range(6))
    with pytest.raises(ParameterError, match="algorithm 'dx9'"):
        FM.fm(f0_hz=220.0, ratios=t64(1, 2), levels=t64(1, 1), sample_rate=SR, n_samples=8, algorithm="dx9")


def test_float32_fm_keeps_its_pitch_exact_over_four_seconds():
    n = 4 * SR
    y = FM.fm(f0_hz=torch.tensor([1000.3]), ratios=torch.ones(1, 6), levels=torch.tensor([[1.0, 0, 0, 0, 0, 0]]),
              sample_rate=SR, n_samples=n, algorithm="additive")
    t = np.arange(n) / SR
    f0 = float(np.float32(1000.3))  # the frequency float32 can hold
    assert np.abs(y[0].numpy() - np.sin(2 * np.pi * f0 * t)).max() < 1e-5  # a float32 phase sum drifts by ~1e-2


def test_a_steady_pitchs_phase_is_the_summed_phase():
    """The block-wise phase of a steady pitch (f0 of shape (B,)) equals the float64 running sum, over 4 s, with
    ratios (0.5 included) and a start phase, to 1e-6 cycles in float32; its gradients are right across blocks."""
    f0 = torch.tensor([110.0, 440.0, 7321.3])
    ratio = torch.tensor([[1, 0.5, 3.0], [1, 2, 7.0], [0.5, 1, 1.0]])
    start = torch.rand(3, 3, generator=torch.Generator().manual_seed(0))
    n = 4 * SR + 17
    summed = phase_cycles(f0[:, None].expand(-1, n), SR, ratio=ratio, start=start)
    steady = phase_cycles(f0, SR, ratio=ratio, start=start, n_samples=n)
    assert steady.dtype == torch.float32 and steady.shape == (3, 3, n) and 0 <= steady.min() and steady.max() < 1
    gap = (summed - steady.double()).abs()
    assert torch.minimum(gap, 1 - gap).max() < 1e-6
    f, r = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in ([900.0, 1300.0], [[1.0, 0.5], [2.0, 3.0]]))
    assert torch.autograd.gradcheck(lambda f, r: torch.sin(2 * math.pi * phase_cycles(f, SR, ratio=r, n_samples=150)),
                                    (f, r))


def sustained_pitch(y: np.ndarray) -> float:
    f = F.yin(y[int(0.1 * SR): int(0.7 * SR)], fmin=50.0, fmax=2000.0, sr=SR, frame_length=2048)
    return float(np.median(f))


PITCH_PATCHES = {
    "fm": {**{f"op{k}_ratio": r for k, r in zip(range(1, 7), (1, 2, 1, 1, 3, 1))},
           **{f"op{k}_level": lv for k, lv in zip(range(1, 7), (1, 0.4, 0.2, 0.6, 0.3, 0.1))},
           **{f"op{k}_{p}": v for k in range(1, 7) for p, v in
              (("attack_s", 0.01), ("decay_s", 0.3), ("sustain_level", 0.7), ("release_s", 0.2))}},
    "harmonic-noise": {"brightness_db_per_octave": -9.0, "even_level": 0.6, "noise_level": 0.02,
                       "noise_cutoff_hz": 3000.0, "attack_s": 0.02, "decay_s": 0.3, "sustain_level": 0.7,
                       "release_s": 0.2},
    "subtractive": {"saw_level": 0.8, "pulse_level": 0.3, "pulse_width": 0.3, "cutoff_hz": 1500.0,
                    "resonance": 0.3, "filter_env_octaves": 1.5, "attack_s": 0.01, "decay_s": 0.3,
                    "sustain_level": 0.7, "release_s": 0.2, "filter_attack_s": 0.01, "filter_decay_s": 0.2,
                    "filter_sustain_level": 0.3, "filter_release_s": 0.2},
}


@pytest.mark.parametrize("synth", list(PITCH_PATCHES))
@pytest.mark.parametrize("f0_hz", [110.0, 261.63, 440.0])
def test_every_synth_sounds_at_its_f0(synth, f0_hz):
    y = patches.render(synth, PITCH_PATCHES[synth], f0_hz=f0_hz, note_s=0.8, duration_s=1.0, sample_rate=SR)
    assert y.dtype == np.float32 and y.shape == (SR,) and np.isfinite(y).all()
    assert abs(1200 * np.log2(sustained_pitch(y) / f0_hz)) < 5


def inharmonic_share_db(y: np.ndarray, f0_hz: float) -> float:
    """Energy more than 10 Hz from every harmonic of f0, relative to all of it: what aliasing folds back."""
    power = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    distance = np.abs(freqs / f0_hz - np.round(freqs / f0_hz)) * f0_hz
    return 10 * np.log10(power[distance > 10].sum() / power.sum())


def test_nothing_folds_back_over_nyquist():
    f0 = 1234.0  # harmonics 7 … 60 would be above Nyquist
    h = harmonic(f0_hz=torch.tensor([f0]), amplitude=torch.tensor([0.5]), distribution=torch.ones(1, 60),
                 sample_rate=SR, n_samples=SR)[0].numpy()
    assert inharmonic_share_db(h, f0) < -60
    # FM: a bright 2-op patch high up; the index limit keeps its sidebands below Nyquist, the plain equations do not
    args = dict(f0_hz=torch.tensor([1500.0]), ratios=torch.tensor([[1.0, 1.0]]), levels=torch.tensor([[0.8, 6.0]]),
                sample_rate=SR, n_samples=SR, algorithm="2op")
    limited, plain = (inharmonic_share_db(FM.fm(**args, band_limit=b)[0].numpy(), 1500.0) for b in (True, False))
    assert limited < -30 and plain > limited + 10, (limited, plain)
    # sawtooth: PolyBLEP against the naive ramp at the same pitch
    one = torch.ones(1)
    saw = oscillator(f0_hz=torch.tensor([1500.0]), saw_level=one, pulse_level=0 * one, pulse_width=0.5 * one,
                     sample_rate=SR, n_samples=SR)[0].numpy()
    naive = 2 * ((np.arange(SR) * 1500.0 / SR) % 1.0) - 1
    assert inharmonic_share_db(saw, 1500.0) < inharmonic_share_db(naive, 1500.0) - 6


@pytest.mark.parametrize("cutoff_hz", [300.0, 1000.0, 4000.0])
def test_the_lowpass_is_3_db_down_at_its_cutoff_and_resonance_lifts_it(cutoff_hz):
    t = torch.arange(SR, dtype=torch.float64) / SR

    def gain_db(freq, resonance):
        x = torch.sin(2 * math.pi * freq * t)[None]
        y = lowpass(x, cutoff_hz=torch.tensor([cutoff_hz], dtype=torch.float64),
                    resonance=torch.tensor([resonance], dtype=torch.float64), sample_rate=SR)
        core = slice(2000, SR - 2000)
        return 20 * math.log10(y[0, core].pow(2).mean().sqrt() / x[0, core].pow(2).mean().sqrt())

    assert gain_db(cutoff_hz, 0.0) == pytest.approx(-3.01, abs=0.5)
    assert gain_db(cutoff_hz / 8, 0.0) == pytest.approx(0.0, abs=0.5)
    assert gain_db(min(cutoff_hz * 4, 7000.0), 0.0) < -20
    peak = gain_db(cutoff_hz, 1.0)  # |H(ω0)| = Q = 8: +18.1 dB, where the peak is wider than the FIR's resolution
    assert peak == pytest.approx(20 * math.log10(8.0), abs=1.0) if cutoff_hz / 8 > 2 * SR / 256 else peak > 10


def test_a_time_varying_filter_switches_between_its_responses():
    x = torch.randn(1, 8192, dtype=torch.float64)
    ones = torch.ones(1, 64, 65, dtype=torch.float64)  # one response per 128 samples
    assert torch.allclose(framewise_fir(x, ones)[:, 100:-100], x[:, 100:-100], atol=1e-3)  # all-pass: x itself
    mute_second_half = ones.clone()
    mute_second_half[:, 32:] = 0
    y = framewise_fir(x, mute_second_half)  # silent from sample 4096, once the last open block's tail has rung out
    assert y[:, 4096 + 64:].abs().max() < 1e-9 and torch.allclose(y[:, 100:4096 - 64], x[:, 100:4096 - 64], atol=1e-3)


def test_envelope_shape_and_noise_level():
    env = adsr(attack_s=torch.tensor([0.1]), decay_s=torch.tensor([0.2]), sustain_level=torch.tensor([0.5]),
               release_s=torch.tensor([0.3]), note_s=torch.tensor([0.6]), n_samples=SR, sample_rate=SR)[0]
    at = lambda s: float(env[int(s * SR)])  # noqa: E731
    assert (at(0), at(0.05), at(0.1), at(0.2), at(0.5), at(0.75), at(0.95)) == pytest.approx(
        (0, 0.5, 1, 0.75, 0.5, 0.25, 0), abs=1e-3)
    short = adsr(attack_s=0.2, decay_s=0.1, sustain_level=0.5, release_s=0.1, note_s=0.1, n_samples=SR,
                 sample_rate=SR)
    assert float(short.max()) == pytest.approx(0.5, abs=1e-3)  # released half-way up its attack
    noise = filtered_noise(magnitudes=torch.ones(4, 65, 50), n_samples=SR, generator=torch.Generator().manual_seed(0))
    assert float(noise.std()) == pytest.approx(1 / math.sqrt(3), rel=0.02)  # unit gains: uniform noise in ±1


def test_gradients_are_right():
    torch.manual_seed(0)
    n = 48
    f0 = torch.tensor([900.0, 1300.0], dtype=torch.float64, requires_grad=True)
    ratios = torch.tensor([[1.0, 2.0], [1.0, 3.0]], dtype=torch.float64, requires_grad=True)
    levels = torch.rand(2, 2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f, r, lv: FM.fm(f0_hz=f, ratios=r, levels=lv, sample_rate=SR,
                                                             n_samples=n, algorithm="2op"), (f0, ratios, levels))
    dist = torch.rand(2, 8, 3, dtype=torch.float64, requires_grad=True)
    amp = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, d: harmonic(f0_hz=f0.detach(), amplitude=a, distribution=d,
                                                          sample_rate=SR, n_samples=n), (amp, dist))
    x = torch.randn(2, n, dtype=torch.float64)
    cutoff = torch.tensor([[800.0, 1500.0], [2000.0, 3000.0]], dtype=torch.float64, requires_grad=True)
    res = torch.tensor([[0.2, 0.5], [0.7, 0.1]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c, r: lowpass(x, cutoff_hz=c, resonance=r, sample_rate=SR), (cutoff, res))
    times = [torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (0.0011, 0.0007, 0.4, 0.0013)]
    assert torch.autograd.gradcheck(lambda a, d, s, r: adsr(attack_s=a, decay_s=d, sustain_level=s, release_s=r,
                                                            note_s=0.0021, n_samples=n, sample_rate=SR), times)


def test_patches_round_trip_and_bad_patch_files_are_named(tmp_path):
    rng = np.random.default_rng(0)
    for synth in patches.SPACES:
        patch = patches.random_patch(synth, rng)
        assert patches.validate(patch, synth) == patch
        assert patches.denormalize(patches.normalize(patch, synth), synth) == pytest.approx(patch)
    good = PITCH_PATCHES["subtractive"]
    cases = {"missing.json": ({k: v for k, v in good.items() if k != "cutoff_hz"}, "missing cutoff_hz"),
             "unknown.json": ({**good, "drive": 1.0}, "unknown drive"),
             "nan.json": ({**good, "resonance": float("nan")}, "resonance must be a finite number"),
             "range.json": ({**good, "cutoff_hz": 20000.0}, r"cutoff_hz = 20000.0 is outside its range 100.0 … 8000.0"),
             "text.json": ({**good, "saw_level": "loud"}, "saw_level must be a finite number"),
             "list.json": ([1, 2], "must be a JSON object")}
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(content))
        with pytest.raises(ConfigError, match=message) as err:
            patches.load(path, "subtractive")
        assert str(path) in str(err.value)
    (tmp_path / "broken.json").write_text('{"saw_level": 0.5,')
    with pytest.raises(ConfigError, match="broken.json: not JSON"):
        patches.load(tmp_path / "broken.json", "subtractive")
    with pytest.raises(ConfigError, match="no such patch file"):
        patches.load(tmp_path / "absent.json", "subtractive")
    with pytest.raises(ConfigError, match="unknown synth 'moog'"):
        patches.validate(good, "moog")


def test_synth_render_from_the_command_line(tmp_path, capsys):
    import soundfile as sf

    from dl4mir.cli import main

    assert main(["synth", "example", "--synth", "harmonic-noise", "--seed", "3"]) == 0
    patch = json.loads(capsys.readouterr().out)
    assert set(patch) == set(patches.names("harmonic-noise"))
    (tmp_path / "p.json").write_text(json.dumps(PITCH_PATCHES["fm"]))
    out = tmp_path / "note.wav"
    assert main(["synth", "render", "--synth", "fm", "--params", str(tmp_path / "p.json"), "--f0-hz", "330",
                 "--duration-s", "1.5", "--out", str(out)]) == 0
    y, sr = sf.read(out)
    assert sr == 16000 and len(y) == 24000 and abs(1200 * np.log2(sustained_pitch(y) / 330.0)) < 5
    assert main(["synth", "params", "--synth", "subtractive"]) == 0
    assert "cutoff_hz" in capsys.readouterr().out
    assert main(["synth", "render", "--params", str(tmp_path / "p.json"), "--f0-hz", "9000", "--out",
                 str(tmp_path / "high.wav")]) == 2
    assert "Nyquist" in capsys.readouterr().err and not (tmp_path / "high.wav").exists()


def test_synth_lsd_in_both_definitions():
    from dl4mir.metrics import synth_lsd

    y = np.random.default_rng(0).standard_normal((2, SR))
    same, half = synth_lsd(y, y), synth_lsd(y, 0.5 * y)
    assert same["lsd_db"] == pytest.approx([0, 0]) and same["lsd_log10_power_sq"] == pytest.approx([0, 0])
    assert half["lsd_db"] == pytest.approx([6.02, 6.02], abs=0.01)  # half the amplitude: 20·log10(2) everywhere
    assert half["lsd_log10_power_sq"] == pytest.approx([np.log10(4) ** 2] * 2, rel=1e-6)


def test_the_match_loss_equals_auraloss_with_the_target_computed_once():
    import auraloss

    from dl4mir.synth.matching import MRSTFTToTarget

    torch.manual_seed(0)
    target = torch.randn(8000) * torch.linspace(0, 1, 8000)
    audio = (0.3 * torch.randn(3, 8000)).requires_grad_(True)
    ref = auraloss.freq.MultiResolutionSTFTLoss(sample_rate=16000)(audio[:, None], target.expand(3, 1, -1))
    (g_ref,) = torch.autograd.grad(ref, audio)
    ours = MRSTFTToTarget(target)(audio)
    (g_ours,) = torch.autograd.grad(ours, audio)
    assert float(ours.detach()) == pytest.approx(float(ref.detach()), rel=1e-5)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-4, atol=1e-7)
    assert float(MRSTFTToTarget(target)(target[None])) == pytest.approx(0.0, abs=1e-6)


def test_matching_finds_a_patch_that_sounds_like_the_target(tmp_path, capsys):
    from dl4mir.cli import main
    from dl4mir.synth.matching import match

    patch = PITCH_PATCHES["harmonic-noise"]
    target = patches.render("harmonic-noise", patch, f0_hz=220.0, note_s=0.7, duration_s=1.0)
    searched = match(target, synth="harmonic-noise", sr=SR, f0_hz=220.0, steps=60, restarts=4)
    assert searched.lsd_end["lsd_db"] < searched.lsd_start["lsd_db"] - 5  # measured: 20.2 → 5.6 dB with 150 steps
    assert searched.audio.shape == target.shape
    refined = match(target, synth="harmonic-noise", sr=SR, init=patch, steps=20, restarts=1, f0_hz=220.0)
    assert refined.lsd_end["lsd_db"] < 3  # from the true patch it stays there (the noise differs: not 0)
    for bad, message in ((np.zeros(SR), "silent"), (np.full(SR, np.nan), "NaN"), (np.ones(100), "0.1 s")):
        with pytest.raises(ParameterError, match=message):
            match(bad, synth="harmonic-noise", sr=SR, f0_hz=220.0)
    with pytest.raises(ParameterError, match="Nyquist"):
        match(target, synth="harmonic-noise", sr=SR, f0_hz=9000.0)
    import soundfile as sf

    sf.write(tmp_path / "target.wav", target, SR)
    assert main(["synth", "match", str(tmp_path / "target.wav"), "--synth", "subtractive", "--steps", "5",
                 "--restarts", "2", "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "LSD" in out and "subtractive at 220." in out  # f0 measured with swift-f0 when not given
    patches.load(tmp_path / "m" / "patch.json", "subtractive")  # a valid patch file
    assert sf.info(str(tmp_path / "m" / "match.wav")).frames == SR
    assert main(["synth", "match", str(tmp_path / "absent.wav"), "--out", str(tmp_path / "n")]) != 0
