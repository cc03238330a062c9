"""Tempo from onset envelopes, self-supervised or supervised (lesson "Tempo vs. Pitch"; Quinton, ISMIR 2022;
Morais et al., ICASSP 2023; the shifted cross-entropy of SPICE's successor PESTO, Riou et al. 2023).

The network turns an excerpt's onset envelope into a probability over log-spaced tempo bins (``bins_per_octave``
bins per doubling, ``min_bpm``–``max_bpm``).  Its input is the envelope's periodicity on that same log-tempo axis —
the autocorrelation (each lag divided by its overlap, so slow tempi are not attenuated), the Fourier magnitude, or
both ("hybrid", Peeters' combination: the autocorrelation also peaks at half and third the tempo, the Fourier
magnitude at twice and three times it) — so a tempo change is a shift along the axis, and a stack of 1-D
convolutions along it, which shifts with its input, keeps that structure.

**Self-supervised** (``tempo-ssl``, no tempo label): two views of one excerpt, the second played ``r = 2**u`` times
faster (``u`` uniform in ``±max_log2_stretch`` octaves), so its tempo distribution must be the first one's moved
up by ``u·bins_per_octave`` bins.  The loss is that shifted cross-entropy in both directions (each view's
distribution, shifted, is the other's target) plus ``entropy_weight`` × the distributions' entropy, which makes each
clip choose one metrical level instead of spreading over its beat, half-beat and bar.  Which level a groove gets is
the network's choice, not the annotators': a few labels then fix the offset (:func:`calibrate`), or fine-tune the
network (``train_model(..., init_from=ssl)`` on the labelled clips).

**Supervised** (``tempo-cnn``, ``supervised=True``): the same network trained by cross-entropy against the labelled
tempo's bin (a Gaussian one bin wide), as Schreiber & Müller's tempo classifier; it is the baseline the
self-supervised one is measured against.  With ``label_stretch`` (the default) the same known stretch serves as
augmentation: each training clip is played ``2**u`` times faster and its label moved with it, so 20 labelled
grooves teach every tempo around theirs.

The stretch is applied to the onset envelope (linear interpolation in time), not to the audio: for rhythm the two
agree up to the envelope's 23 ms frame, and it costs microseconds instead of a phase vocoder per view.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dl4mir.errors import ParameterError
from dl4mir.models.equivariance import (calibrate_offset, conv_stack, interpolate, peak_bin,
                                       shifted_cross_entropy)

REPRESENTATIONS = ("autocorrelation", "fourier", "hybrid")


@dataclass
class TempoSSLConfig:
    n_frames: int = 517  # onset-envelope frames per clip (12 s)
    frame_rate_hz: float = 22050 / 512  # onset-envelope frames per second (the data says: TaskData.input_shape)
    representation: str = "autocorrelation"  # or "fourier", "hybrid" (the paper's comparison)
    bins_per_octave: int = 24
    min_bpm: float = 20.0
    max_bpm: float = 960.0  # room above the fastest tempo for its eighth and sixteenth notes
    channels: tuple = (16, 32, 32)
    kernel_size: int = 9
    max_log2_stretch: float = 0.6  # views differ by up to ±0.6 octaves of tempo
    entropy_weight: float = 0.5  # one metrical level per clip
    view_frames: int = 336  # frames per view (7.8 s): a view 2**0.6 times faster still ends inside 12 s
    supervised: bool = False  # True: trained on tempo labels (tempo-cnn)
    label_stretch: bool = True  # supervised: each training clip played 2**u times faster, its label × 2**u
    target_mean: float = 0.0  # BPM = target · target_std + target_mean (the regression task's standardization)
    target_std: float = 1.0

    def __post_init__(self):
        if self.representation not in REPRESENTATIONS:
            raise ParameterError(f"representation {self.representation!r} is not one of {', '.join(REPRESENTATIONS)}")
        if not 0 < self.min_bpm < self.max_bpm:
            raise ParameterError(f"need 0 < min_bpm < max_bpm, got {self.min_bpm} and {self.max_bpm}")


def stretch(env: torch.Tensor, ratio: torch.Tensor, n_out: int) -> torch.Tensor:
    """Envelopes ``(B, T)`` played ``ratio`` times faster (tempo × ratio), ``n_out`` frames from the start each:
    output frame ``t`` reads input time ``t·ratio`` by linear interpolation (zero past the end)."""
    t = torch.arange(n_out, device=env.device, dtype=env.dtype)
    return interpolate(env, t[None, :] * ratio[:, None])


def tempo_grid(cfg: TempoSSLConfig) -> torch.Tensor:
    """The BPM of each log-tempo bin, ascending from ``min_bpm`` by ``bins_per_octave`` bins per doubling."""
    n = int(np.floor(np.log2(cfg.max_bpm / cfg.min_bpm) * cfg.bins_per_octave)) + 1
    return cfg.min_bpm * 2.0 ** (torch.arange(n, dtype=torch.float64) / cfg.bins_per_octave)


def periodicity(env: torch.Tensor, cfg: TempoSSLConfig) -> torch.Tensor:
    """``(B, T)`` envelopes → ``(B, C, n_bins)`` periodicity on the log-tempo grid, each channel scaled to a
    maximum of 1 and log-compressed: C = 1 (autocorrelation or Fourier) or 2 (hybrid)."""
    B, T = env.shape
    x = env - env.mean(dim=1, keepdim=True)
    bpm = tempo_grid(cfg).to(env.device)
    channels = []
    if cfg.representation in ("autocorrelation", "hybrid"):
        ac = torch.fft.irfft(torch.fft.rfft(x, n=2 * T).abs() ** 2, n=2 * T)[:, :T]  # lags 0 … T−1
        ac = ac / torch.arange(T, 0, -1, device=env.device, dtype=env.dtype)  # mean over the overlap, not the sum
        ac = ac / ac[:, :1].clamp_min(1e-9)
        channels.append(interpolate(ac, 60.0 * cfg.frame_rate_hz / bpm).clamp_min(0))
    if cfg.representation in ("fourier", "hybrid"):
        n_fft = 4 * T  # zero-padded so neighbouring tempo bins read different frequencies
        mag = torch.fft.rfft(x, n=n_fft).abs()
        mag = interpolate(mag, bpm / 60.0 * n_fft / cfg.frame_rate_hz)
        channels.append(mag / mag.amax(dim=1, keepdim=True).clamp_min(1e-9))
    return torch.log1p(10 * torch.stack(channels, dim=1))


class TempoSSL(nn.Module):
    input_kind = "onset"
    own_objective = True  # forward computes the loss (self-supervised, or from the tempo labels)

    def __init__(self, cfg: TempoSSLConfig):
        super().__init__()
        self.cfg = cfg
        self.val_metric = "tempo_loss" if cfg.supervised else "equivariance"
        self.convs = conv_stack(2 if cfg.representation == "hybrid" else 1, cfg.channels, cfg.kernel_size)
        self.register_buffer("log2_bpm", torch.log2(tempo_grid(cfg)).float(), persistent=False)
        # a view 2**max_log2_stretch times faster must still end inside the clip
        self.view_frames = max(8, min(cfg.view_frames, int(cfg.n_frames / 2 ** cfg.max_log2_stretch)))

    def logits(self, env: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` or ``(B, 1, T)`` onset envelopes → ``(B, n_bins)`` tempo logits (the first ``view_frames``)."""
        env = env.flatten(1)[:, : self.view_frames]
        return self.convs(periodicity(env, self.cfg))[:, 0]

    def tempo_code(self, env: torch.Tensor) -> torch.Tensor:
        """``(B,)`` log2 BPM of each clip's most probable bin, refined by a parabola through its neighbours' log
        probabilities.  Self-supervised, it is right up to an offset (and an octave choice) that :func:`calibrate`
        fixes; supervised, it is the tempo."""
        return self.log2_bpm[0] + peak_bin(self.logits(env)) / self.cfg.bins_per_octave

    def bpm(self, env: torch.Tensor) -> torch.Tensor:
        return 2.0 ** self.tempo_code(env)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        env = x.flatten(1)  # (B, T)
        if self.cfg.supervised:
            return self._supervised(env, cond)
        gen = None if self.training else torch.Generator(device="cpu").manual_seed(0)  # fixed views for validation
        u = (torch.rand(len(env), generator=gen) * 2 - 1).to(env.device) * self.cfg.max_log2_stretch
        la = self.logits(env)  # the excerpt as recorded, which is what inference sees
        lb = self.logits(stretch(env, 2.0 ** u, self.view_frames))  # the same excerpt 2**u times faster
        equivariance, entropy = shifted_cross_entropy(la, lb, u * self.cfg.bins_per_octave)
        with torch.no_grad():  # how far apart the two views' decoded tempi are, against the known stretch
            miss = (self._decode(lb) - self._decode(la) - u).abs().mean()
        return {"loss": equivariance + self.cfg.entropy_weight * entropy, "equivariance": equivariance,
                "entropy": entropy, "abs_error_octaves": miss}

    def _decode(self, logits: torch.Tensor) -> torch.Tensor:
        return self.log2_bpm[logits.argmax(dim=1)]

    def _supervised(self, env: torch.Tensor, y: torch.Tensor) -> dict:
        if y is None:
            raise ParameterError("tempo-cnn is trained on tempo labels; none were given")
        bpm = (y.float() * self.cfg.target_std + self.cfg.target_mean).clamp(self.cfg.min_bpm, self.cfg.max_bpm)
        if self.training and self.cfg.label_stretch:  # the equivariance as augmentation: few labels, every tempo
            u = (torch.rand(len(env)) * 2 - 1).to(env.device) * self.cfg.max_log2_stretch
            env = stretch(env, 2.0 ** u, self.view_frames)
            bpm = (bpm * 2.0 ** u).clamp(self.cfg.min_bpm, self.cfg.max_bpm)
        pos = (torch.log2(bpm) - self.log2_bpm[0]) * self.cfg.bins_per_octave  # fractional target bin
        bins = torch.arange(len(self.log2_bpm), device=env.device, dtype=pos.dtype)
        target = torch.exp(-0.5 * (bins[None, :] - pos[:, None]) ** 2)
        target = target / target.sum(dim=1, keepdim=True)
        logits = self.logits(env)
        loss = -(target * logits.log_softmax(dim=1)).sum(dim=1).mean()
        with torch.no_grad():
            octaves = (self._decode(logits) - torch.log2(bpm)).abs().mean()
        return {"loss": loss, "tempo_loss": loss, "abs_error_octaves": octaves}


def calibrate(codes, bpm, *, degree: int = 0, tolerance_octaves: float = 0.06) -> np.ndarray:
    """Coefficients mapping tempo codes to log2 BPM from a few labelled clips (:func:`calibrate_offset`; the
    default fits the offset only, as the mode, so clips on another metrical level do not drag it)."""
    bpm = np.asarray(bpm, dtype=float)
    if not np.all(bpm > 0):
        raise ParameterError("calibration tempi must be positive BPM")
    return calibrate_offset(codes, np.log2(bpm), degree=degree, tolerance=tolerance_octaves,
                            related=np.log2([2.0, 3.0, 1 / 2, 1 / 3]))  # the levels Acc2 forgives


def to_bpm(codes, coefficients) -> np.ndarray:
    return 2.0 ** np.polyval(coefficients, np.asarray(codes, dtype=float))
