"""DDSP's harmonic-plus-noise decoder (Engel et al. 2020), the baseline DDX7 is measured against.

    f0 ─► MLP ─┐
               ├─► concat ─► GRU ─► concat(f0, loudness) ─► MLP ─► dense ─► amplitude (B, F)
    loud ─► MLP┘                                                          harmonic distribution (B, H, F)
                                                                          noise band gains (B, bands, F)
    ─► harmonic-plus-noise synth (:func:`dl4mir.synth.harmonic_noise.harmonic_noise`) ─► (B, F · hop)

MLPs are DDSP's: ``layers × (Linear → LayerNorm → LeakyReLU)``; outputs go through DDSP's exponentiated sigmoid
(noise gains with DDSP's −5 bias, so the noise starts near silent).  With the defaults (512 units, 100 harmonics,
65 noise bands) it has about 4.3 M parameters, the size the DDX7 paper compares against.  The GRU keeps its
state between calls when streaming; the oscillators keep their phase.  Not modelled: DDSP's learned reverb.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dl4mir.models.control_decoder import ControlDecoder, ControlDecoderConfig, exp_sigmoid
from dl4mir.synth.dsp import causal_upsample, next_phase
from dl4mir.synth.harmonic_noise import harmonic_noise


@dataclass
class HpNConfig(ControlDecoderConfig):  # rates, crop, f0 tracker, loudness scaling, MR-STFT sizes: the base's
    hidden: int = 512  # MLP width and GRU state
    mlp_layers: int = 3
    n_harmonics: int = 100
    noise_bands: int = 65


def mlp(n_in: int, hidden: int, layers: int) -> nn.Sequential:
    mods = []
    for i in range(layers):
        mods += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.2)]
    return nn.Sequential(*mods)


class HpN(ControlDecoder):
    def __init__(self, cfg: HpNConfig):
        super().__init__(cfg)
        H = cfg.hidden
        self.f0_mlp, self.loudness_mlp = mlp(1, H, cfg.mlp_layers), mlp(1, H, cfg.mlp_layers)
        self.gru = nn.GRU(2 * H, H, batch_first=True)
        self.out_mlp = mlp(H + 2, H, cfg.mlp_layers)
        self.dense = nn.Linear(H, 1 + cfg.n_harmonics + cfg.noise_bands)

    def parameters_at_frames(self, controls: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, 2, F)`` controls → amplitude ``(B, F)``, harmonic distribution ``(B, H, F)``, noise gains
        ``(B, bands, F)``."""
        x = self.normalized(controls).transpose(1, 2)  # (B, F, 2)
        h = torch.cat([self.f0_mlp(x[..., :1]), self.loudness_mlp(x[..., 1:])], dim=-1)  # (B, F, 2H)
        h, state = self.gru(h, self.state.get("gru") if self.streaming else None)  # (B, F, H)
        if self.streaming:
            self.state["gru"] = state.detach()
        p = self.dense(self.out_mlp(torch.cat([h, x], dim=-1))).transpose(1, 2)  # (B, 1 + H + bands, F)
        n_h = self.cfg.n_harmonics
        return exp_sigmoid(p[:, 0]), exp_sigmoid(p[:, 1:1 + n_h]), exp_sigmoid(p[:, 1 + n_h:] - 5.0)

    def synthesize(self, controls: torch.Tensor) -> torch.Tensor:
        n = controls.shape[-1] * self.hop
        past = dict(self.state) if self.streaming else {}
        amplitude, distribution, noise = self.parameters_at_frames(controls)
        # pitch and amplitude as DDX7's (causal: a block's samples need no later frame, so the phase does not
        # depend on where blocks are cut); the spectrum's shape is interpolated within each call
        f0 = causal_upsample(controls[:, 0], self.hop, past.get("f0"))  # (B, n)
        amplitude_signal = causal_upsample(amplitude, self.hop, past.get("amplitude"))
        audio = harmonic_noise(f0_hz=f0, amplitude=amplitude_signal, distribution=distribution,
                               noise_magnitudes=noise, sample_rate=self.cfg.sample_rate, n_samples=n,
                               phase=past.get("phase"))
        if self.streaming:
            self.state.update(phase=next_phase(f0, self.cfg.sample_rate, start=past.get("phase")),
                              f0=controls[:, :1, -1].detach(), amplitude=amplitude[:, -1:].detach())
        return audio
