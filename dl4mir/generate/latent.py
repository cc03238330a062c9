"""Latent-space tools for the autoencoders, VAEs and GANs of :mod:`dl4mir.models`.

All functions take and return the models' *standardized* log-magnitude spectrograms ``(N, F, T)`` (see
:func:`dl4mir.train.data.prepare` with ``input_kind="logmag"``); :func:`to_raw` undoes the standardization before
listening (:meth:`dl4mir.features.logmag.LogMagnitude.to_audio`) or measuring in dB.
"""
from __future__ import annotations

import numpy as np
import torch

from dl4mir.classic.estimators import PCA
from dl4mir.errors import ConfigError
from dl4mir.features.bands import standardize_bands, unstandardize_bands
from dl4mir.metrics import pairwise_lsd


def _device(model) -> torch.device:
    return next(model.parameters()).device


def _cond(cond, n: int):
    if cond is None:
        return None
    c = torch.as_tensor(np.asarray(cond), dtype=torch.long)
    return c.expand(n) if c.ndim == 0 else c


@torch.no_grad()
def _batched(fn, X, cond=None, *, batch_size: int = 256) -> np.ndarray:
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    cond = _cond(cond, len(X))
    outs = []
    for i in range(0, len(X), batch_size):
        c = None if cond is None else cond[i:i + batch_size]
        outs.append(fn(X[i:i + batch_size], c).float().cpu())
    return torch.cat(outs).numpy() if outs else np.empty((0,))


def encode(model, X, cond=None, *, batch_size: int = 256) -> np.ndarray:
    """Codes ``(N, d)``: the encoder output of an autoencoder, the posterior mean of a VAE."""
    model.eval()
    dev = _device(model)
    return _batched(lambda x, c: model.encode(x.to(dev), None if c is None else c.to(dev)), X, cond,
                    batch_size=batch_size)


def posterior(model, X, cond=None, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """A VAE's ``(mu, logvar)``, each ``(N, d)``."""
    if not hasattr(model, "posterior"):
        raise ConfigError(f"{type(model).__name__} has no posterior; only VAEs do")
    model.eval()
    dev = _device(model)
    both = _batched(lambda x, c: torch.cat(model.posterior(x.to(dev), None if c is None else c.to(dev)), 1), X, cond,
                    batch_size=batch_size)
    d = both.shape[1] // 2
    return both[:, :d], both[:, d:]


def decode(model, Z, cond=None, *, batch_size: int = 256) -> np.ndarray:
    model.eval()
    dev = _device(model)
    return _batched(lambda z, c: model.decode(z.to(dev), None if c is None else c.to(dev)), Z, cond,
                    batch_size=batch_size)


def reconstruct(model, X, cond=None, *, batch_size: int = 256) -> np.ndarray:
    return decode(model, encode(model, X, cond, batch_size=batch_size), cond, batch_size=batch_size)


def anomaly_scores(model, X, cond=None) -> np.ndarray:
    """Reconstruction error per clip (mean squared, standardized units): high = unlike the training data."""
    X = np.asarray(X, dtype=np.float32)
    return ((reconstruct(model, X, cond) - X) ** 2).reshape(len(X), -1).mean(axis=1)


def sample_prior(model, n: int, cond=None, *, seed: int = 0) -> np.ndarray:
    """``n`` draws ``z ~ N(0, I)`` decoded (VAE) or generated (GAN); ``cond`` is one class index or ``n`` of them."""
    g = torch.Generator().manual_seed(seed)
    c = _cond(cond, n)
    model.eval()
    with torch.no_grad():
        return model.sample(n, c, generator=g).float().cpu().numpy()


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: for Gaussian codes it keeps the norm typical of the prior along the way."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    omega = np.arccos(np.clip(np.dot(a / max(na, 1e-12), b / max(nb, 1e-12)), -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def interpolate(model, x_a, x_b, *, steps: int = 8, cond=None, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """Encode two clips, walk the straight (or spherical) path between their codes, decode every point.

    Returns ``(codes (steps, d), spectrograms (steps, F, T))``; the ends are the two clips' reconstructions.
    """
    if method not in ("linear", "slerp"):
        raise ConfigError(f"method must be 'linear' or 'slerp', got {method!r}")
    if steps < 2:
        raise ConfigError(f"an interpolation needs at least 2 steps, got {steps}")
    za, zb = encode(model, np.stack([x_a, x_b]), None if cond is None else [cond, cond])
    ts = np.linspace(0.0, 1.0, steps)
    Z = np.stack([(1 - t) * za + t * zb if method == "linear" else slerp(za, zb, t) for t in ts]).astype(np.float32)
    return Z, decode(model, Z, cond)


def class_means(Z, labels) -> dict:
    """Mean code per label value."""
    Z, labels = np.asarray(Z), np.asarray(labels)
    return {str(v): Z[labels == v].mean(axis=0) for v in np.unique(labels)}


def attribute_vector(Z, labels, *, source: str, target: str) -> np.ndarray:
    """``mean(code | target) − mean(code | source)``, e.g. the "clean → chorus" direction."""
    means = class_means(Z, labels)
    for name in (source, target):
        if name not in means:
            raise ConfigError(f"no clips labelled {name!r}; labels present: {', '.join(sorted(means))}")
    return means[target] - means[source]


def apply_attribute(model, X, vector, *, alpha: float = 1.0, cond=None) -> np.ndarray:
    """Move each clip's code by ``alpha × vector`` and decode: latent arithmetic on sounds."""
    Z = encode(model, X, cond) + alpha * np.asarray(vector, dtype=np.float32)
    return decode(model, Z.astype(np.float32), cond)


def latent_map(Z, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """2-D coordinates of codes ``(N, d)`` for a scatter plot: PCA (linear, exact) or UMAP (``pip install umap-learn``)."""
    Z = np.asarray(Z, dtype=np.float64)
    if Z.shape[1] <= 2:
        return np.pad(Z, ((0, 0), (0, 2 - Z.shape[1])))
    if method == "pca":
        return PCA(n_components=2).fit_transform(Z)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ConfigError("method='umap' needs umap-learn: pip install 'dl4mir[umap]'") from None
        return umap.UMAP(n_components=2, random_state=seed).fit_transform(Z)
    raise ConfigError(f"method must be 'pca' or 'umap', got {method!r}")


def nearest_neighbours(query_logmag, reference_logmag, *, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Indices and log-spectral distances (dB) of each query's ``k`` nearest reference spectrograms."""
    d = pairwise_lsd(query_logmag, reference_logmag)
    idx = np.argsort(d, axis=1)[:, :k]
    return idx, np.take_along_axis(d, idx, axis=1)


def to_raw(X, norm: dict) -> np.ndarray:
    """Standardized spectrograms → natural-log magnitudes, with the per-bin training statistics in ``norm``."""
    return unstandardize_bands(torch.as_tensor(np.asarray(X, dtype=np.float32)), norm).numpy()


def from_raw(logmag, norm: dict) -> np.ndarray:
    """Natural-log magnitudes → the models' standardized input."""
    return standardize_bands(torch.as_tensor(np.asarray(logmag, dtype=np.float32)), norm).numpy()
