"""Self-supervised pitch (SPICE, Gfeller et al. 2020; the shifted cross-entropy of PESTO, Riou et al. 2023): the
"pitch" of the lesson "Tempo vs. Pitch", the same framework as :mod:`dl4mir.models.tempo_ssl` on another axis.

A note's constant-Q spectrum (24 bins per octave from C1, dB below its maximum) is averaged over the clip's frames;
a second view is the same spectrum moved up by ``k`` bins (``k`` uniform in ``±max_shift_bins``; a pitch-shift by
``k/2`` semitones — on a log-frequency axis the harmonics move together, so the shift *is* the transformation, as
SPICE does it, with no resampling).  A stack of 1-D convolutions along the bins gives one logit per bin; the loss is
the shifted cross-entropy of :mod:`dl4mir.models.equivariance` plus an entropy term.  No pitch label is used: which
partial the peak lands on is the network's choice, and a few labelled notes fix the offset (:func:`calibrate`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dl4mir.errors import ParameterError
from dl4mir.models.equivariance import calibrate_offset, conv_stack, peak_bin, shift_bins, shifted_cross_entropy


@dataclass
class PitchSSLConfig:
    n_bins: int = 168  # constant-Q bins (the data says: TaskData.input_shape)
    n_frames: int = 12
    fmin_hz: float = 32.70  # the lowest bin's frequency (C1)
    bins_per_octave: int = 24
    channels: tuple = (16, 32, 32)
    kernel_size: int = 15  # 7 semitones: wide enough to see a fundamental's first overtones together
    max_shift_bins: float = 24.0  # views differ by up to ±1 octave
    entropy_weight: float = 0.5

    def __post_init__(self):
        if self.n_bins < 4 * self.kernel_size or self.max_shift_bins <= 0:
            raise ParameterError(f"pitch-ssl needs n_bins >= 4 x kernel_size and max_shift_bins > 0, got "
                                 f"{self.n_bins}, {self.kernel_size}, {self.max_shift_bins}")


class PitchSSL(nn.Module):
    input_kind = "cqt"
    own_objective = True  # self-supervised: forward computes the loss, labels unused
    val_metric = "equivariance"

    def __init__(self, cfg: PitchSSLConfig):
        super().__init__()
        self.cfg = cfg
        self.convs = conv_stack(1, cfg.channels, cfg.kernel_size)
        # MIDI number of bin 0 (MIDI 69 = A4 = 440 Hz)
        self.midi_of_bin0 = 69.0 + 12.0 * float(np.log2(cfg.fmin_hz / 440.0))

    def logits(self, spectrum: torch.Tensor) -> torch.Tensor:
        """``(B, n_bins)`` spectra → ``(B, n_bins)`` pitch logits."""
        return self.convs(spectrum[:, None])[:, 0]

    @staticmethod
    def spectrum(x: torch.Tensor) -> torch.Tensor:
        """``(B, n_bins, frames)`` constant-Q frames → ``(B, n_bins)``, their mean over the note."""
        return x.mean(dim=-1) if x.dim() == 3 else x

    def pitch_code(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,)`` the peak bin in semitones on the MIDI scale: the pitch up to the offset :func:`calibrate`
        fixes (which partial the network chose)."""
        return self.midi_of_bin0 + peak_bin(self.logits(self.spectrum(x))) * 12.0 / self.cfg.bins_per_octave

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        a = self.spectrum(x)  # (B, n_bins)
        gen = None if self.training else torch.Generator(device="cpu").manual_seed(0)  # fixed views for validation
        k = (torch.rand(len(a), generator=gen) * 2 - 1).to(a.device) * self.cfg.max_shift_bins
        b = shift_bins(a, k)  # the note k/2 semitones higher (0 = the −80 dB floor where it leaves the range)
        la, lb = self.logits(a), self.logits(b)
        equivariance, entropy = shifted_cross_entropy(la, lb, k)
        with torch.no_grad():  # the decoded shift against the known one, in semitones
            miss = ((peak_bin(lb) - peak_bin(la) - k).abs().mean() * 12.0 / self.cfg.bins_per_octave)
        return {"loss": equivariance + self.cfg.entropy_weight * entropy, "equivariance": equivariance,
                "entropy": entropy, "abs_error_semitones": miss}


def calibrate(codes, midi, *, degree: int = 0, tolerance_semitones: float = 0.5) -> np.ndarray:
    """Coefficients mapping pitch codes to MIDI numbers from a few labelled notes (:func:`calibrate_offset`)."""
    return calibrate_offset(codes, midi, degree=degree, tolerance=tolerance_semitones)


def to_midi(codes, coefficients) -> np.ndarray:
    return np.polyval(coefficients, np.asarray(codes, dtype=float))
