"""What the self-supervised tempo and pitch models share (SPICE, Gfeller et al. 2020; PESTO, Riou et al. 2023).

Both read a log-spaced axis (log tempo, log frequency) on which the transformation they learn from — a
time-stretch, a pitch-shift — is a shift by a known number of bins.  A stack of 1-D convolutions along that axis
shifts with its input, and its last layer gives one logit per bin; the loss asks the distribution of the
transformed view to be the original's shifted by those bins (a shifted cross-entropy, both ways), and a low entropy
makes each example choose one peak.  Where the peak sits relative to the truth (which metrical level, which
harmonic) is the network's choice: a few labels fix that offset (:func:`calibrate_offset`).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dl4mir.errors import ParameterError


def conv_stack(c_in: int, channels, kernel_size: int) -> nn.Sequential:
    """``(B, c_in, N)`` → ``(B, 1, N)`` logits, one per bin; "same" padding so bin ``i`` stays bin ``i``."""
    layers = []
    for c in channels:
        layers += [nn.Conv1d(c_in, c, kernel_size, padding=kernel_size // 2), nn.BatchNorm1d(c), nn.ReLU()]
        c_in = c
    layers.append(nn.Conv1d(c_in, 1, kernel_size, padding=kernel_size // 2))
    return nn.Sequential(*layers)


def interpolate(values: torch.Tensor, position: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """``values (B, N)`` read at fractional ``position`` — ``(B, K)`` per row, or ``(K,)`` for every row — by linear
    interpolation between neighbours; a neighbour outside ``0 … N−1`` reads ``fill``."""
    B, N = values.shape
    position = position.expand(B, -1)
    i0 = position.floor().long()
    frac = (position - i0).to(values.dtype)  # in the position's precision first: float64 tempo grids stay exact

    def read(i):
        inside = (i >= 0) & (i < N)
        return torch.where(inside, values.gather(1, i.clamp(0, N - 1)),
                           torch.full((), fill, dtype=values.dtype, device=values.device))

    return read(i0) * (1 - frac) + read(i0 + 1) * frac


def shift_bins(p: torch.Tensor, k: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Rows ``(B, N)`` moved up by ``k`` (B,) fractional bins: ``out[i] = p[i − k]``, ``fill`` where that falls
    outside."""
    bins = torch.arange(p.shape[1], device=p.device, dtype=p.dtype)
    return interpolate(p, bins[None, :] - k[:, None].to(p.dtype), fill)


def shifted_cross_entropy(logits_a: torch.Tensor, logits_b: torch.Tensor, k: torch.Tensor):
    """``(equivariance, entropy)`` for views ``b`` = ``a`` moved up by ``k`` bins: each view's distribution,
    shifted (and held fixed), is the other's target; the entropy is the mean over both views."""
    pa, pb = logits_a.softmax(dim=1), logits_b.softmax(dim=1)
    target_b, target_a = shift_bins(pa.detach(), k), shift_bins(pb.detach(), -k)
    equivariance = (-(target_b * logits_b.log_softmax(dim=1)).sum(1).mean()
                    - (target_a * logits_a.log_softmax(dim=1)).sum(1).mean())
    p = torch.cat([pa, pb])
    return equivariance, -(p * p.clamp_min(1e-12).log()).sum(dim=1).mean()


def peak_bin(logits: torch.Tensor) -> torch.Tensor:
    """``(B,)`` fractional position of each row's most probable bin, refined by a parabola through its
    neighbours' log probabilities."""
    logp = logits.log_softmax(dim=1)
    j = logp.argmax(dim=1).clamp(1, logp.shape[1] - 2)
    left, mid, right = (logp.gather(1, (j + d)[:, None])[:, 0] for d in (-1, 0, 1))
    curvature = left - 2 * mid + right
    offset = torch.where(curvature < -1e-9, 0.5 * (left - right) / curvature.clamp(max=-1e-9),
                         torch.zeros_like(mid)).clamp(-0.5, 0.5)
    return j + offset


def calibrate_offset(codes, targets, *, degree: int = 0, tolerance: float, related=()) -> np.ndarray:
    """Polynomial coefficients mapping codes to targets (same units) from a few labelled examples.

    ``degree=0`` fits the offset only, as the *mode* of ``target − code``: the offset that puts the most labelled
    examples within ``tolerance``, so examples whose code sits on another peak (an octave, a metrical level off)
    do not drag it.  Two offsets an octave apart can tie (a network that puts half the grooves on their beat and
    half on their eighth notes); ``related`` (offsets in target units, e.g. log2 of 2, 3, ½, ⅓ for tempo) breaks
    the tie towards the offset that also puts the most examples on a related peak, so no labelled example is two
    levels away.  The offset is the median of the residuals within ``tolerance`` of the winner.
    ``degree ≥ 1``: least squares (the linear and quadratic fits of Morais et al.)."""
    codes, targets = np.asarray(codes, dtype=float), np.asarray(targets, dtype=float)
    if len(codes) <= degree or len(codes) == 0:
        raise ParameterError(f"a degree-{degree} calibration needs more than {degree} labelled examples, "
                             f"got {len(codes)}")
    if degree > 0:
        return np.polyfit(codes, targets, degree)
    residual = targets - codes
    distance = np.abs(residual[:, None] - residual[None, :])  # [i, j]: example i's residual against candidate j
    support = (distance <= tolerance).sum(axis=0)
    shifts = np.asarray([0.0, *related])
    near_related = np.abs(residual[:, None, None] - residual[None, :, None] - shifts) <= tolerance
    related_support = near_related.any(axis=2).sum(axis=0)
    best = np.lexsort((-related_support, -support))[0]  # most supporters, then most on a related peak
    return np.array([1.0, float(np.median(residual[distance[:, best] <= tolerance]))])  # code + offset
