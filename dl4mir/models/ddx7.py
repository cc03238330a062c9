"""DDX7 (Caspe, McPherson & Sandler, ISMIR 2022): a causal TCN drives the six operators of a fixed FM patch.

    controls (B, 2, F) ─► causal TCN (5 blocks × 128 channels, dilations 1 … 16) ─► sigmoid ─► levels (B, 6, F)
    levels × (carrier: 1, modulator: max_index) ─► FM synth (DX7 algorithm, fixed frequency ratios) ─► (B, F · hop)

Only the operators' output levels move with time; the algorithm and the frequency ratios are the patch, chosen
before training (DDX7 picks one per instrument).  A carrier's level is its amplitude, a modulator's its modulation
index in radians (up to ``max_index``).  The network sees ``1 + 2 + 4 + 8 + 16`` frames of context per layer
stack, 2·31 + 1 = 63 frames (252 ms) in all, and nothing of the future, so it can play live: the levels are
interpolated causally (:func:`dl4mir.synth.dsp.causal_upsample`, one frame of latency) and the FM is rendered
without the band limit (which looks at a whole note's peak), so a note rendered in blocks equals the note rendered
whole.  Not modelled: DDX7's learned reverb.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dl4mir.errors import ParameterError
from dl4mir.models.control_decoder import ControlDecoder, ControlDecoderConfig
from dl4mir.models.pqmf import CausalPad
from dl4mir.synth import fm
from dl4mir.synth.dsp import causal_upsample, next_phase


# Patches to choose from per instrument (DDX7 picks one per instrument): frequency ratios of algorithm 2x3's
# operators 1…6.  Measured on instruments' notes after 4 epochs (BENCHMARKS.md): the first is the best or near it
# on violin, flute and trumpet; the old default, the last, was 1.2–1.8× worse.
PATCHES = {
    "1-1-1|1-3-14": (1.0, 1.0, 1.0, 1.0, 3.0, 14.0),
    "1-1-1|2-3-14": (1.0, 1.0, 1.0, 2.0, 3.0, 14.0),
    "1-3-14|1-1-1": (1.0, 3.0, 14.0, 1.0, 1.0, 1.0),
    "1-1-1|1-2-3": (1.0, 1.0, 1.0, 1.0, 2.0, 3.0),
}


@dataclass
class DDX7Config(ControlDecoderConfig):  # rates, crop, f0 tracker, loudness scaling, MR-STFT sizes: the base's
    channels: int = 128
    n_blocks: int = 5  # dilations 1, 2, 4, …, 2^(n_blocks − 1)
    kernel_size: int = 3
    algorithm: str = "2x3"  # two stacks of three operators (DX7 algorithm 1 without feedback)
    # operators 1…6 as multiples of f0 (every sideband a harmonic): a plain stack, and a carrier whose modulator is
    # itself modulated high up (14·f0), for the bright upper partials of bowed and blown notes (one of PATCHES)
    ratios: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 3.0, 14.0)
    max_index: float = 6.0  # a modulator's highest modulation index (radians)


class CausalConv(nn.Module):
    """A dilated 1-D convolution that sees only the past (its :class:`CausalPad` caches the context when
    streaming)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int = 1):
        super().__init__()
        self.pad = CausalPad(c_in, (kernel_size - 1) * dilation)
        self.conv = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class TCNBlock(nn.Module):
    """``x + 1×1(ReLU(dilated causal conv(x)))``."""

    def __init__(self, channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.conv = CausalConv(channels, channels, kernel_size, dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(torch.relu(self.conv(x)))


class DDX7(ControlDecoder):
    def __init__(self, cfg: DDX7Config):
        super().__init__(cfg)
        self.n_ops = fm.operators(cfg.algorithm)
        if len(cfg.ratios) != self.n_ops:
            raise ParameterError(f"DDX7: algorithm {cfg.algorithm!r} has {self.n_ops} operators, ratios has "
                                 f"{len(cfg.ratios)}")
        self.register_buffer("ratios", torch.tensor(cfg.ratios, dtype=torch.float32))
        scale = torch.full((self.n_ops,), float(cfg.max_index))
        scale[fm.carriers(cfg.algorithm)] = 1.0
        self.register_buffer("level_scale", scale)  # carriers: amplitude ≤ 1; modulators: index ≤ max_index
        C = cfg.channels
        self.inp = CausalConv(2, C, cfg.kernel_size)
        self.blocks = nn.Sequential(*[TCNBlock(C, cfg.kernel_size, 2 ** i) for i in range(cfg.n_blocks)])
        self.out = nn.Conv1d(C, self.n_ops, 1)
        with torch.no_grad():  # start quiet and nearly unmodulated: sigmoid(−3) ≈ 0.05
            self.out.bias.fill_(-3.0)

    def levels(self, controls: torch.Tensor) -> torch.Tensor:
        """``(B, 2, F)`` controls → ``(B, K, F)`` operator levels (amplitude or modulation index)."""
        h = self.blocks(self.inp(self.normalized(controls)))  # (B, C, F)
        return torch.sigmoid(self.out(torch.relu(h))) * self.level_scale[:, None]

    def synthesize(self, controls: torch.Tensor) -> torch.Tensor:
        B, _, F = controls.shape
        levels, f0 = self.levels(controls), controls[:, 0]
        past = self.state if self.streaming else {}
        level_signal = causal_upsample(levels, self.hop, past.get("levels"))  # (B, K, n)
        f0_signal = causal_upsample(f0, self.hop, past.get("f0"))  # (B, n)
        ratios = self.ratios.expand(B, -1)
        audio = fm.fm(f0_hz=f0_signal, ratios=ratios, levels=level_signal, sample_rate=self.cfg.sample_rate,
                      n_samples=F * self.hop, algorithm=self.cfg.algorithm, band_limit=False, phase=past.get("phase"))
        if self.streaming:
            self.state = {"levels": levels[..., -1:].detach(), "f0": f0[..., -1:].detach(),
                          "phase": next_phase(f0_signal, self.cfg.sample_rate, ratio=ratios, start=past.get("phase"))}
        return audio
