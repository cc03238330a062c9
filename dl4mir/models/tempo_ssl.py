"""Self-supervised tempo (lesson "Tempo vs. Pitch"; Quinton, ISMIR 2022; Morais et al., ICASSP 2023; after SPICE).

No tempo label is used in training.  Two views of one excerpt's onset envelope are made, the second time-stretched
by a known ratio ``r = 2**u`` (``u`` uniform in ``±max_log2_stretch`` octaves) so its tempo is ``r`` times the first's;
the network maps each view to one number, and the loss asks the difference of the two numbers to be ``u``::

    loss = Huber( f(stretch(x, r)) − f(x) − log2 r )

so ``f`` becomes log2-tempo up to an unknown offset (and, in practice, a scale near 1).  A few labelled clips then
fix it: :func:`calibrate` fits ``log2 BPM ≈ a·f + b`` (or a quadratic) — "how many labels does self-supervision
save?" is the question of the lesson.

The stretch is applied to the onset envelope (linear interpolation in time), not to the audio: for rhythm the two
are the same up to the envelope's 23 ms frame, and it costs microseconds instead of a phase vocoder per view.  The
network sees the view's autocorrelation resampled onto a log-tempo axis (30–480 BPM), where a tempo change is a
shift — a 1-D convolution stack can follow it — and log-compressed, then pooled and read out by a linear head.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dl4mir.errors import ParameterError



@dataclass
class TempoSSLConfig:
    n_frames: int = 517  # onset-envelope frames per clip (12 s)
    frame_rate_hz: float = 22050 / 512  # onset-envelope frames per second (the data says: TaskData.input_shape)
    n_bins: int = 128  # log-tempo bins between min_bpm and max_bpm
    min_bpm: float = 30.0
    max_bpm: float = 480.0
    channels: tuple = (16, 32, 32)
    max_log2_stretch: float = 0.6  # views differ by up to ±0.6 octaves of tempo
    entropy_weight: float = 0.02  # pushes each clip's tempo distribution to one peak (one metrical level)
    view_frames: int = 336  # frames per view (7.8 s): a view 2**0.6 times faster still ends inside 12 s


def stretch(env: torch.Tensor, ratio: torch.Tensor, n_out: int) -> torch.Tensor:
    """Envelopes ``(B, T)`` played ``ratio`` times faster (tempo × ratio), ``n_out`` frames from the start each:
    output frame ``t`` reads input time ``t·ratio`` by linear interpolation (zero past the end)."""
    B, T = env.shape
    pos = torch.arange(n_out, device=env.device, dtype=env.dtype)[None, :] * ratio[:, None]  # (B, n_out)
    i0 = pos.floor().long().clamp(max=T - 1)
    frac = pos - i0
    i1 = (i0 + 1).clamp(max=T - 1)
    out = env.gather(1, i0) * (1 - frac) + env.gather(1, i1) * frac
    return out * (pos <= T - 1)


def tempo_grid(cfg: TempoSSLConfig) -> torch.Tensor:
    """The BPM of each log-tempo bin, ascending from ``min_bpm`` to ``max_bpm``."""
    return torch.logspace(np.log2(cfg.min_bpm), np.log2(cfg.max_bpm), cfg.n_bins, base=2.0)


def log_tempo_autocorrelation(env: torch.Tensor, cfg: TempoSSLConfig) -> torch.Tensor:
    """``(B, T)`` envelopes → ``(B, n_bins)`` autocorrelation at the lags of a log-spaced tempo grid, each row
    scaled to a maximum of 1 at lag 0 and log-compressed."""
    B, T = env.shape
    x = env - env.mean(dim=1, keepdim=True)
    spec = torch.fft.rfft(x, n=2 * T)
    ac = torch.fft.irfft(spec.abs() ** 2, n=2 * T)[:, :T]  # (B, T) lags 0 … T−1
    ac = ac / ac[:, :1].clamp_min(1e-9)
    lag = 60.0 * cfg.frame_rate_hz / tempo_grid(cfg).to(env.device)  # fractional lags in frames, descending
    i0 = lag.floor().long().clamp(max=T - 2)
    frac = (lag - i0).to(env.dtype)
    val = ac[:, i0] * (1 - frac) + ac[:, i0 + 1] * frac
    return torch.log1p(10 * val.clamp_min(0))


class TempoSSL(nn.Module):
    input_kind = "onset"
    self_supervised = True
    val_metric = "equivariance"

    def __init__(self, cfg: TempoSSLConfig):
        super().__init__()
        self.cfg = cfg
        layers, c_in = [], 1
        for c in cfg.channels:
            layers += [nn.Conv1d(c_in, c, kernel_size=5, padding=2), nn.BatchNorm1d(c), nn.ReLU()]
            c_in = c
        layers.append(nn.Conv1d(c_in, 1, kernel_size=5, padding=2))  # one logit per tempo bin
        self.convs = nn.Sequential(*layers)
        self.register_buffer("log2_bpm", torch.log2(tempo_grid(cfg)), persistent=False)
        # a view 2**max_log2_stretch times faster must still end inside the clip
        self.view_frames = max(8, min(cfg.view_frames, int(cfg.n_frames / 2 ** cfg.max_log2_stretch)))

    def tempo_distribution(self, env: torch.Tensor) -> torch.Tensor:
        """``(B, n_bins)`` probabilities over the tempo bins."""
        env = env.reshape(env.shape[0], -1)[:, : self.view_frames]
        return self.convs(log_tempo_autocorrelation(env, self.cfg)[:, None])[:, 0].softmax(dim=1)

    def tempo_code(self, env: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` or ``(B, 1, T)`` onset envelopes → ``(B,)`` log2-tempo codes: the expected log2 BPM under a
        softmax over the tempo bins (a soft argmax), so a tempo change — a shift along the bins — moves the code
        by its octaves; the calibration fixes which peak (octave) the code points at."""
        return self.tempo_distribution(env) @ self.log2_bpm

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        env = x.reshape(x.shape[0], -1)  # (B, T)
        gen = None if self.training else torch.Generator(device="cpu").manual_seed(0)  # fixed views for validation
        u = (torch.rand(len(env), generator=gen) * 2 - 1).to(env.device) * self.cfg.max_log2_stretch
        a = env[:, : self.view_frames]  # the excerpt as recorded, which is what inference sees
        b = stretch(env, 2.0 ** u, self.view_frames)  # the same excerpt 2**u times faster
        pa, pb = self.tempo_distribution(a), self.tempo_distribution(b)
        diff = pb @ self.log2_bpm - pa @ self.log2_bpm
        equivariance = nn.functional.huber_loss(diff, u, delta=0.25)
        entropy = -(torch.cat([pa, pb]) * torch.cat([pa, pb]).clamp_min(1e-12).log()).sum(dim=1).mean()
        return {"loss": equivariance + self.cfg.entropy_weight * entropy, "equivariance": equivariance,
                "entropy": entropy, "abs_error_octaves": (diff - u).abs().mean()}


def calibrate(codes, bpm, *, degree: int = 0, tolerance_octaves: float = 0.06) -> np.ndarray:
    """Polynomial coefficients mapping tempo codes to log2 BPM from a few labelled clips.

    ``degree=0`` (the default) fits the offset only — the soft argmax already counts in octaves — as the *mode* of
    ``log2 BPM − code``: the offset that puts the most labelled clips within ``tolerance_octaves``, so clips whose
    code sits on another metrical level (an octave off) do not drag it.  ``degree ≥ 1``: least squares, as in the
    paper."""
    codes, bpm = np.asarray(codes, dtype=float), np.asarray(bpm, dtype=float)
    if len(codes) <= degree or len(codes) == 0:
        raise ParameterError(f"a degree-{degree} calibration needs more than {degree} labelled clips, got {len(codes)}")
    if degree > 0:
        return np.polyfit(codes, np.log2(bpm), degree)
    residual = np.log2(bpm) - codes
    support = (np.abs(residual[:, None] - residual[None, :]) <= tolerance_octaves).sum(axis=0)
    best = residual[support == support.max()]
    return np.array([1.0, float(np.median(best))])  # code + offset


def to_bpm(codes, coefficients) -> np.ndarray:
    return 2.0 ** np.polyval(coefficients, np.asarray(codes, dtype=float))
