"""The generative models' representation, and the way back to audio.

Models see **log-magnitude STFT frames**: 16 kHz audio, ``n_fft=512`` (31 Hz bins), hop 256, the first 64 frames
(1.008 s, long enough to hear a 0.5 s echo), the Nyquist bin dropped so the image is 256 × 64 (powers of two suit
strided convolutions).  ``log(|X| + amin)`` with ``amin = 0.01`` keeps about 80 dB of range above the floor.

A magnitude spectrogram has no phase, and the course warns what that costs: zero phase sounds like a buzzy click
train, random phase like a whispered, smeared copy.  :func:`griffin_lim` estimates a phase consistent with the
magnitudes (Griffin & Lim 1984) with the "fast" momentum of Perraudin et al. (2013), batched in torch.  For
reconstructions of *real* clips, ``phase=`` can pass the original phase, which isolates the model's magnitude error
from the phase-retrieval error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dl4mir.errors import ParameterError
from dl4mir.features.cache import FeatureSpec


@dataclass(frozen=True)
class LogMagnitude:
    sr: int = 16000
    n_fft: int = 512
    hop_length: int = 256
    n_frames: int = 64
    amin: float = 1e-2

    @property
    def n_freq(self) -> int:
        return self.n_fft // 2  # the Nyquist bin is dropped

    @property
    def n_samples(self) -> int:
        return (self.n_frames - 1) * self.hop_length  # centered frames: 1 + n // hop of them

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sr

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(0, duration_s, 0, sr/2)``: seconds and Hz for drawing an ``(n_freq, n_frames)`` image."""
        return (0.0, self.duration_s, 0.0, self.sr / 2)

    def feature_spec(self):
        """The cached feature (:mod:`dl4mir.features.cache`) the representation is computed from."""
        return FeatureSpec("stft_mag", sr=self.sr, duration_s=self.duration_s,
                           params=(("hop_length", self.hop_length), ("n_fft", self.n_fft)))

    def from_magnitude(self, mag):
        """``(..., 1 + n_fft/2, ≥ n_frames)`` magnitudes → ``(..., n_freq, n_frames)`` log-magnitudes."""
        lib = torch if isinstance(mag, torch.Tensor) else np
        return lib.log(mag[..., : self.n_freq, : self.n_frames] + self.amin)

    def to_magnitude(self, logmag: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`from_magnitude`; the Nyquist bin comes back as zero."""
        mag = (torch.exp(logmag.float()) - self.amin).clamp_min(0.0)
        return torch.nn.functional.pad(mag, (0, 0, 0, 1))

    def stft(self, y: torch.Tensor) -> torch.Tensor:
        """Complex ``(..., 1 + n_fft/2, frames)``, framed as :func:`dl4mir.features.spectral.stft` frames."""
        lead = y.shape[:-1]
        spec = torch.stft(y.reshape(-1, y.shape[-1]).float(), self.n_fft, self.hop_length,
                          window=torch.hann_window(self.n_fft, device=y.device), center=True, pad_mode="constant",
                          return_complex=True)
        return spec.reshape(*lead, *spec.shape[-2:])

    def istft(self, spec: torch.Tensor, length: int | None = None) -> torch.Tensor:
        lead = spec.shape[:-2]
        y = torch.istft(spec.reshape(-1, *spec.shape[-2:]), self.n_fft, self.hop_length,
                        window=torch.hann_window(self.n_fft, device=spec.device), center=True,
                        length=length or self.n_samples)
        return y.reshape(*lead, y.shape[-1])

    def from_audio(self, y) -> torch.Tensor:
        """Waveforms ``(..., n)`` → log-magnitudes ``(..., n_freq, n_frames)`` (cropped or zero-padded to length)."""
        y = torch.as_tensor(np.asarray(y, dtype=np.float32)) if not isinstance(y, torch.Tensor) else y
        n = self.n_samples
        y = torch.nn.functional.pad(y[..., :n], (0, max(0, n - y.shape[-1])))
        return self.from_magnitude(self.stft(y).abs())

    def to_audio(self, logmag: torch.Tensor, *, n_iter: int = 64, phase: torch.Tensor | None = None,
                 seed: int = 0) -> torch.Tensor:
        """Log-magnitudes ``(..., n_freq, n_frames)`` → waveforms ``(..., n_samples)``."""
        mag = self.to_magnitude(logmag)
        if phase is not None:
            return self.istft(torch.polar(mag, phase.to(mag.device).float()))
        return griffin_lim(mag, self, n_iter=n_iter, seed=seed)


SPEC = LogMagnitude()


def griffin_lim(mag: torch.Tensor, rep: LogMagnitude = SPEC, *, n_iter: int = 64, momentum: float = 0.99,
                init: str = "random", seed: int = 0) -> torch.Tensor:
    """Waveforms whose STFT magnitudes approach ``mag`` ``(..., 1 + n_fft/2, frames)``; every item at once.

    Each iteration projects onto consistent spectrograms (iSTFT → STFT) and back onto the target magnitudes; the
    momentum term extrapolates along the last change, which reaches in ~30 iterations what plain Griffin-Lim needs
    ~100 for.  ``init="random"`` draws the starting phase from ``seed`` (reproducible); ``"zeros"`` starts from zero
    phase.
    """
    if init not in ("random", "zeros"):
        raise ParameterError(f"init must be 'random' or 'zeros', got {init!r}")
    if init == "random":
        g = torch.Generator().manual_seed(seed)
        angles = torch.polar(torch.ones(mag.shape), torch.rand(mag.shape, generator=g) * 2 * np.pi).to(mag.device)
    else:
        angles = torch.ones(mag.shape, dtype=torch.complex64, device=mag.device)
    length = (mag.shape[-1] - 1) * rep.hop_length
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = rep.stft(rep.istft(mag * angles, length))
        angles = rebuilt - previous * (momentum / (1 + momentum))
        angles = angles / angles.abs().clamp_min(1e-16)
        previous = rebuilt
    return rep.istft(mag * angles, length)

