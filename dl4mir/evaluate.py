"""Metrics for generative models: how close a reconstruction is, how the latent space is used, how good samples are.

Reconstruction (arrays ``(..., freq, frames)`` of natural-log magnitudes, or waveforms):

* :func:`log_spectral_distance` — dB RMS difference per frame, averaged over frames (lower is better);
* :func:`spectral_convergence` — relative Frobenius error of the magnitudes (re-exported from
  :mod:`dl4mir.generate.spectrogram`);
* :func:`multi_resolution_stft_distance` — auraloss's multi-resolution STFT loss on waveforms (spectral
  convergence + log-magnitude L1 at three FFT sizes), what neural vocoders report.

VAE latent use: :func:`kl_per_dimension`, :func:`active_units` (Burda et al. 2016: a dimension is active when
its posterior mean varies across the data by more than 0.01).

Generation:

* :func:`classifier_accuracy` — does a classifier trained on real clips recognize the condition asked for?
* :func:`frechet_distance` — the Fréchet distance between Gaussians fitted to embeddings of real and generated
  clips.  The embedding network here is *dl4mir's own* spectrogram classifier trained on the synthetic data, so the
  number is comparable only between runs using that same network.  **It is not the Fréchet Audio Distance of
  Kilgour et al. (2019), which uses VGGish embeddings**; do not compare it with published FAD values.
* :func:`diversity` — mean pairwise log-spectral distance among samples (0 = mode collapse);
* :func:`nearest_neighbour_ratio` — for each sample, its distance to the nearest *training* clip divided by the
  typical nearest-neighbour distance among held-out real clips and the training set; values far below 1 mean
  the model reproduces training clips (memorization) rather than generating new ones.
"""
from __future__ import annotations

import numpy as np

from dl4mir.generate.spectrogram import spectral_convergence

__all__ = ["log_spectral_distance", "spectral_convergence", "multi_resolution_stft_distance", "kl_per_dimension",
           "active_units", "classifier_accuracy", "frechet_distance", "diversity", "nearest_neighbour_ratio",
           "pairwise_lsd"]

_DB_PER_NEPER = 20.0 / np.log(10.0)  # natural-log magnitude difference → dB


def log_spectral_distance(reference_logmag, estimate_logmag) -> np.ndarray:
    """LSD in dB per item: ``mean over frames of sqrt(mean over bins of (20·log10|S|/|Ŝ|)²)``."""
    d = (np.asarray(reference_logmag, dtype=np.float64) - np.asarray(estimate_logmag, dtype=np.float64)) * _DB_PER_NEPER
    return np.sqrt(np.mean(d ** 2, axis=-2)).mean(axis=-1)


def multi_resolution_stft_distance(reference, estimate, *, sr: int = 16000) -> float:
    """auraloss's ``MultiResolutionSTFTLoss`` (FFT sizes 1024/2048/512) between waveform batches ``(B, n)``."""
    import auraloss
    import torch

    ref = torch.as_tensor(np.asarray(reference, dtype=np.float32)).reshape(-1, 1, np.shape(reference)[-1])
    est = torch.as_tensor(np.asarray(estimate, dtype=np.float32)).reshape(-1, 1, np.shape(estimate)[-1])
    with torch.no_grad():
        return float(auraloss.freq.MultiResolutionSTFTLoss(sample_rate=sr)(est, ref))


def kl_per_dimension(mu, logvar) -> np.ndarray:
    """Average KL(q(z_j|x) ‖ N(0, 1)) per latent dimension, in nats, over rows of ``mu``/``logvar`` ``(N, d)``."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    return (0.5 * (mu ** 2 + np.exp(logvar) - 1.0 - logvar)).mean(axis=0)


def active_units(mu, *, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies across the data (variance > ``threshold``)."""
    return int((np.var(np.asarray(mu, dtype=np.float64), axis=0) > threshold).sum())


def classifier_accuracy(predicted, target) -> float:
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.shape != target.shape or predicted.size == 0:
        raise ValueError(f"need equal, non-empty label arrays, got {predicted.shape} and {target.shape}")
    return float(np.mean(predicted == target))


def frechet_distance(real_embeddings, fake_embeddings) -> float:
    """``‖μ_r − μ_f‖² + tr(Σ_r + Σ_f − 2 (Σ_r Σ_f)^½)`` between Gaussians fitted to two ``(N, D)`` embedding sets."""
    a, b = np.asarray(real_embeddings, dtype=np.float64), np.asarray(fake_embeddings, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (N >= 2, D) embedding sets with the same D, got {a.shape} and {b.shape}")
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # tr((Σa Σb)^½) = Σ √λ of the symmetric PSD matrix Σa^½ Σb Σa^½: eigenvalues, no general matrix square root
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_covmean)


def pairwise_lsd(a_logmag, b_logmag, *, chunk: int = 256) -> np.ndarray:
    """``(len(a), len(b))`` matrix of log-spectral distances (dB) between every pair of spectrograms.

    Per frame, ``‖a_t − b_t‖² = ‖a_t‖² + ‖b_t‖² − 2 a_t·b_t``, so all pairs cost one batched matrix product per
    frame instead of materializing every difference.
    """
    a = np.moveaxis(np.asarray(a_logmag, dtype=np.float64), -1, 0) * _DB_PER_NEPER  # (T, Na, F)
    b = np.moveaxis(np.asarray(b_logmag, dtype=np.float64), -1, 0) * _DB_PER_NEPER  # (T, Nb, F)
    n_freq = a.shape[-1]
    b_sq = (b ** 2).sum(-1)[:, None, :]  # (T, 1, Nb)
    out = np.empty((a.shape[1], b.shape[1]), dtype=np.float64)
    for i in range(0, a.shape[1], chunk):
        ai = a[:, i:i + chunk]
        sq = (ai ** 2).sum(-1)[:, :, None] + b_sq - 2 * np.matmul(ai, b.transpose(0, 2, 1))
        out[i:i + chunk] = np.sqrt(np.maximum(sq, 0.0) / n_freq).mean(axis=0)
    return out


def diversity(samples_logmag) -> float:
    """Mean log-spectral distance (dB) over all pairs of distinct samples."""
    d = pairwise_lsd(samples_logmag, samples_logmag)
    n = len(d)
    if n < 2:
        raise ValueError("diversity needs at least two samples")
    return float(d[~np.eye(n, dtype=bool)].mean())


def nearest_neighbour_ratio(samples_logmag, train_logmag, heldout_logmag) -> dict:
    """Distances (dB LSD) from generated samples to their nearest training clip, relative to held-out real clips'.

    Returns the median ratio, the fraction of samples closer to a training clip than the closest held-out clip
    ever is (a memorization flag), and both medians.
    """
    to_train = pairwise_lsd(samples_logmag, train_logmag).min(axis=1)
    real = pairwise_lsd(heldout_logmag, train_logmag).min(axis=1)
    ref = float(np.median(real))
    return {"median_ratio": float(np.median(to_train) / ref), "median_sample_to_train_db": float(np.median(to_train)),
            "median_heldout_to_train_db": ref, "fraction_closer_than_any_heldout": float(np.mean(to_train < real.min()))}
