"""Sound matching by gradient descent through a differentiable synthesizer: find the patch whose note sounds like a
target (the refinement step of Faronbi et al. 2023; with an estimator's prediction as the starting point it is
their "estimate + refine", from random starting points it is plain search).

The patch lives in the unit cube through a sigmoid, so every parameter stays in its range; the loss is auraloss's
multi-resolution STFT distance (:class:`MRSTFTToTarget`); ``restarts`` starting patches are optimized together as
one batch and the best kept.  Level is not a patch parameter: a gain (dB) is learned beside the patch and reported.
The note's f0 is given (``dl4mir synth match`` measures it with :func:`dl4mir.features.control.f0_track` when asked
to); its release time defaults to 70 % of its length.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from dl4mir.errors import ParameterError
from dl4mir.metrics import synth_lsd
from dl4mir.synth import patches


@dataclass
class Match:
    patch: dict[str, float]
    gain_db: float
    audio: np.ndarray  # the match, float32, the target's length and rate
    f0_hz: float
    note_s: float
    lsd_start: dict  # the best starting patch's distances to the target (lsd_db, lsd_log10_power_sq, mrstft)
    lsd_end: dict
    seconds: float
    loss_curve: list = field(default_factory=list)  # the kept restart's MR-STFT loss, every 10 steps
    lsd_init: dict | None = None  # ``init``'s distances to the target, when it was given (an estimator's guess)


class MRSTFTToTarget:
    """auraloss's ``MultiResolutionSTFTLoss()`` (its defaults: FFT sizes 1024/2048/512, spectral convergence +
    log-magnitude L1, averaged over the resolutions) from a batch of sounds to one fixed ``target``, equal to
    auraloss's with the target repeated along the batch (tested), but with the target's spectra computed once: a
    match compares every step's renders with the same note, and auraloss would also take both signals' phase."""

    def __init__(self, target: torch.Tensor, *, eps: float = 1e-8):
        self.eps = eps
        self.resolutions = [(1024, 120, 600), (2048, 240, 1200), (512, 50, 240)]  # auraloss's (fft, hop, window)
        self.windows = [torch.hann_window(w) for _, _, w in self.resolutions]
        self.target = [self._mag(target.reshape(1, -1), i) for i in range(len(self.resolutions))]
        self.log_target = [torch.log(m) for m in self.target]

    def _mag(self, x: torch.Tensor, i: int) -> torch.Tensor:
        n_fft, hop, win = self.resolutions[i]
        X = torch.stft(x, n_fft, hop, win, self.windows[i], return_complex=True)
        return torch.sqrt(torch.clamp(X.real ** 2 + X.imag ** 2, min=self.eps))

    def __call__(self, audio: torch.Tensor) -> torch.Tensor:
        """``audio (R, n)`` → the loss, a scalar (the target counted once per row, as auraloss's batch)."""
        total = 0.0
        for i, (y, log_y) in enumerate(zip(self.target, self.log_target)):
            x = self._mag(audio, i)
            # spectral convergence over the whole batch, as auraloss's Frobenius norms (‖Y − X‖ / ‖Y‖, Y repeated)
            sc = torch.linalg.vector_norm(y - x) / (torch.linalg.vector_norm(y) * len(audio) ** 0.5)
            total = total + sc + (torch.log(x) - log_y).abs().mean()
        return total / len(self.resolutions)


def _logit(u):
    u = np.clip(u, 0.02, 0.98)
    return np.log(u / (1 - u))


def _distances(target: np.ndarray, audio: np.ndarray, mrstft: MRSTFTToTarget) -> dict:
    lsd = synth_lsd(target, audio)
    with torch.no_grad():  # the match's own loss to the same target, its spectra already taken
        distance = float(mrstft(torch.from_numpy(audio)[None]))
    return {"lsd_db": float(lsd["lsd_db"]), "lsd_log10_power_sq": float(lsd["lsd_log10_power_sq"]),
            "mrstft": distance}


def match(target: np.ndarray, *, synth: str, sr: int, f0_hz: float, note_s: float | None = None,
          init: dict[str, float] | None = None, steps: int = 300, restarts: int = 8, lr: float = 0.05,
          seed: int = 0) -> Match:
    """Match mono ``target`` at ``sr`` Hz with ``synth``; ``init`` (a validated patch) replaces the first of the
    ``restarts`` random starting patches."""
    y = np.asarray(target, dtype=np.float32)
    if y.ndim != 1 or len(y) < sr // 10:
        raise ParameterError(f"sound matching needs at least 0.1 s of mono audio, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ParameterError("sound matching: the target holds NaN or infinite samples")
    if not np.any(y):
        raise ParameterError("sound matching: the target is silent")
    if steps < 1 or restarts < 1:
        raise ParameterError(f"steps ({steps}) and restarts ({restarts}) must be at least 1")
    names = patches.names(synth)
    if not 0 < f0_hz < sr / 2:
        raise ParameterError(f"sound matching: f0 {f0_hz} Hz must be between 0 and Nyquist ({sr / 2} Hz)")
    note_s = 0.7 * len(y) / sr if note_s is None else float(note_s)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    starts = [patches.random_patch(synth, rng) for _ in range(restarts)]
    if init is not None:
        starts[0] = patches.validate(init, synth)
    z = torch.tensor(np.stack([_logit(patches.normalize(p, synth)) for p in starts]), dtype=torch.float32,
                     requires_grad=True)  # (R, P)
    level_db = torch.zeros(restarts, 1, requires_grad=True)
    loss_fn = MRSTFTToTarget(torch.from_numpy(y))
    opt = torch.optim.Adam([z, level_db], lr=lr)

    def render(points, gain_db):
        params = patches.params_from_unit(torch.sigmoid(points), synth)
        audio = patches.render_batch(synth, params, f0_hz=f0_hz, note_s=note_s, sample_rate=sr, n_samples=len(y),
                                     generator=torch.Generator().manual_seed(seed))  # the same noise every step
        return audio * 10 ** (gain_db / 20)

    with torch.no_grad():
        first = render(z, level_db).numpy()
    curve = []
    for step in range(steps):
        opt.zero_grad()
        audio = render(z, level_db)
        loss = loss_fn(audio) * restarts  # the mean over restarts, × R: each its own gradient
        loss.backward()
        opt.step()
        if step % 10 == 0:
            curve.append(float(loss.detach()) / restarts)
    with torch.no_grad():
        final = render(z, level_db).numpy()
    ends = [_distances(y, a, loss_fn) for a in final]
    best = int(np.argmin([d["mrstft"] for d in ends]))
    starting = [_distances(y, a, loss_fn) for a in first]
    start = min(starting, key=lambda d: d["mrstft"])
    unit = torch.sigmoid(z[best]).detach().numpy()
    patch = patches.validate(patches.denormalize(unit, synth), synth)
    return Match(patch={k: patch[k] for k in names}, gain_db=float(level_db[best, 0].detach()), audio=final[best], f0_hz=f0_hz,
                 note_s=note_s, lsd_start=start, lsd_end=ends[best], seconds=time.perf_counter() - t0,
                 loss_curve=curve, lsd_init=starting[0] if init is not None else None)


def render_units(synth: str, units, *, f0_hz, note_s, sr: int, n_samples: int, seed: int = 0,
                 batch_size: int = 64) -> np.ndarray:
    """``(N, n_samples)`` notes of the patches at ``units`` ``(N, P)`` (points of the unit cube, e.g. an estimator's
    predictions), each at its ``f0_hz`` and ``note_s`` (``(N,)``); the noise is the same for every call with the
    same ``seed``, so two sets of patches differ only by their parameters."""
    units = np.array(units, dtype=np.float32)  # a copy torch may own (broadcast views are read-only)
    f0_hz, note_s = (np.broadcast_to(np.asarray(v, dtype=np.float32), (len(units),)) for v in (f0_hz, note_s))
    out = []
    with torch.no_grad():
        for start in range(0, len(units), batch_size):
            part = slice(start, start + batch_size)
            params = patches.params_from_unit(torch.from_numpy(units[part]), synth)
            out.append(patches.render_batch(synth, params, f0_hz=torch.from_numpy(f0_hz[part].copy()),
                                            note_s=torch.from_numpy(note_s[part].copy()), sample_rate=sr,
                                            n_samples=n_samples, generator=torch.Generator().manual_seed(seed)
                                            ).numpy())
    return np.concatenate(out)
