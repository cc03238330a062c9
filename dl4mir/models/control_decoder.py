"""What DDX7 (:mod:`dl4mir.models.ddx7`) and DDSP's harmonic-plus-noise decoder (:mod:`dl4mir.models.hpn`) share:
a network reads a note's pitch and loudness curves and drives a differentiable synthesizer, trained so that the
synthesizer's output sounds like the recording the curves came from (DDSP, Engel et al. 2020).

Controls arrive as ``(B, 2, frames)`` at the control rate (DDX7's 250 frames per second: one per ``hop`` samples),
row 0 the f0 in Hz, row 1 the A-weighted loudness in dB (:mod:`dl4mir.features.control`).  The network sees them
normalized: ``log2(f0 / 440 Hz)`` and ``(loudness − loudness_center_db) / loudness_scale_db``.  The objective is
the multi-resolution STFT distance between the rendered note and the recording (auraloss: spectral convergence +
log-magnitude distance over several FFT sizes, DDX7's 2048 … 64).

Streaming: :meth:`ControlDecoder.set_streaming` makes each call continue the previous one (a causal network's
cached context, a recurrent state, the oscillators' phases), so a performance can be rendered block by block as it
is played.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import auraloss
import torch
from torch import nn

from dl4mir.errors import ParameterError
from dl4mir.models.pqmf import CausalPad


@dataclass
class ControlDecoderConfig:
    """The settings every pitch-and-loudness decoder has (each model's config adds its network's)."""

    sample_rate: int = 16000
    control_rate_hz: float = 250.0  # frames per second (hop 64 at 16 kHz)
    crop_samples: int = 16000  # training excerpts (1 s; DDX7 uses 4 s, slower per step on a CPU)
    f0_method: str = "swift-f0"  # the tracker the controls come from (dl4mir.features.control): swift-f0 or yin
    loudness_center_db: float = -50.0
    loudness_scale_db: float = 20.0
    scales: tuple[int, ...] = (2048, 1024, 512, 256, 128, 64)  # FFT sizes of the MR-STFT distance (DDX7's)


class ControlDecoder(nn.Module):
    """Base class: subclasses build their network and implement :meth:`synthesize`."""

    input_kind = "controls"  # the data: audio crops with their f0 and loudness curves
    default_task = "controls"
    val_metric = "spectral"

    def __init__(self, cfg: ControlDecoderConfig):
        super().__init__()
        self.cfg = cfg
        self.hop = int(round(cfg.sample_rate / cfg.control_rate_hz))
        if abs(self.hop * cfg.control_rate_hz - cfg.sample_rate) > 1e-6 or cfg.crop_samples % self.hop:
            raise ParameterError(f"control rate {cfg.control_rate_hz} Hz must divide the sample rate "
                                 f"{cfg.sample_rate} Hz and the crop ({cfg.crop_samples} samples) into whole frames")
        self.spectral = auraloss.freq.MultiResolutionSTFTLoss(
            fft_sizes=list(cfg.scales), hop_sizes=[s // 4 for s in cfg.scales], win_lengths=list(cfg.scales))
        self.streaming = False
        self.state: dict = {}  # a stream's memory between calls (phases, last frames, recurrent state)

    def normalized(self, controls: torch.Tensor) -> torch.Tensor:
        """``(B, 2, F)`` f0 (Hz) and loudness (dB) → the network's inputs ``(B, 2, F)``."""
        if controls.dim() != 3 or controls.shape[1] != 2:
            raise ParameterError(f"controls must be (batch, 2, frames): f0 in Hz and loudness in dB; got "
                                 f"{tuple(controls.shape)}")
        f0 = torch.log2(controls[:, 0].clamp_min(1.0) / 440.0)
        loudness = (controls[:, 1] - self.cfg.loudness_center_db) / self.cfg.loudness_scale_db
        return torch.stack([f0, loudness], dim=1)

    def synthesize(self, controls: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def render(self, controls: torch.Tensor) -> torch.Tensor:
        """``(B, 2, F)`` f0 (Hz) and loudness (dB) → ``(B, F · hop)`` audio."""
        if not torch.isfinite(controls).all():
            raise ParameterError("controls hold NaN or infinite values")
        return self.synthesize(controls)

    def set_streaming(self, on: bool) -> None:
        """Render block by block (each call continues the last); turning it on or off forgets the past."""
        self.streaming, self.state = on, {}
        for m in self.modules():
            if isinstance(m, CausalPad):
                m.streaming = on
                m.reset()

    def forward(self, x: torch.Tensor, y: torch.Tensor, *, step: int | None = 0) -> dict:
        """The objective: ``x`` ``(B, 1, n)`` recordings, ``y`` ``(B, 2, n / hop)`` their controls."""
        audio = self.render(y.float())
        if audio.shape[-1] != x.shape[-1]:
            raise ParameterError(f"{x.shape[-1]} samples of audio but {y.shape[-1]} control frames × hop {self.hop}")
        spectral = self.spectral(audio[:, None].float(), x.float())
        return {"loss": spectral, "spectral": spectral}


def exp_sigmoid(x: torch.Tensor, *, exponent: float = 10.0, max_value: float = 2.0) -> torch.Tensor:
    """DDSP's output nonlinearity: ``max · sigmoid(x)^ln(exponent) + 1e-7``, positive, with a gentle slope near 0
    (amplitudes are heard on a log scale)."""
    return max_value * torch.sigmoid(x) ** math.log(exponent) + 1e-7
