"""Pieces the generative lessons (autoencoders; VAEs and GANs) share: the spectrogram data, training one model,
the PCA baseline, and listening."""
from __future__ import annotations

import numpy as np
import torch

from dl4mir.audio import fit_to_length, load
from dl4mir.classic.estimators import PCA
from dl4mir.features.logmag import SPEC
from dl4mir.generate.latent import to_raw
from dl4mir.train.data import prepare

# GANs: a constant learning rate, no weight decay, and no gradient clipping — the clip is one norm over all
# parameters, and the discriminator's large gradients would shrink the generator's steps to nothing.
GAN_TRAINING = {"schedule": "constant", "weight_decay": 0.0, "grad_clip": 0.0}


def spectrograms(ctx, condition: str = "effect"):
    """Standardized log-magnitude spectrograms of the guitar clips with the course split (test: a held-out string)."""
    return prepare(condition, input_kind="logmag", data=ctx.guitar, profile=ctx.profile, test_group=ctx.test_group,
                   show_progress=ctx.show_progress)


def train(ctx, name: str, data, *, epochs: int, tag: str | None = None, lr: float = 2e-3, init_from=None,
          export: str = "float16", **config):
    """Train ``name`` on ``data`` into ``models/<tag>`` (a few steps only on the quick profile); returns
    ``(model in eval mode, loop summary)``.  ``init_from``: a trained model of the same architecture to fine-tune."""
    result = ctx.train(name, data, epochs=epochs, tag=tag, lr=lr, quick_steps=True, init_from=init_from,
                       export=export, training=GAN_TRAINING if name == "gan" else None, **config)
    return result.model, result.summary


def pca_reconstructions(X_train, X, sizes) -> dict:
    """The linear baseline: project onto the first ``d`` principal components of the training spectrograms and
    back, for each ``d`` in ``sizes`` (components are nested, so one fit serves every size)."""
    shape, flat = X.shape, np.asarray(X).reshape(len(X), -1)
    pca = PCA(n_components=max(sizes)).fit(np.asarray(X_train).reshape(len(X_train), -1))
    scores = (flat - pca.mean_) @ pca.components_.T
    return {d: (scores[:, :d] @ pca.components_[:d] + pca.mean_).reshape(shape).astype(np.float32) for d in sizes}


def audio(X_std, data, *, n_iter: int = 64, seed: int = 0) -> np.ndarray:
    """Standardized spectrograms → waveforms through Griffin-Lim."""
    return SPEC.to_audio(torch.from_numpy(to_raw(X_std, data.norm)), n_iter=n_iter, seed=seed).numpy()


def originals(ctx, data, rows) -> np.ndarray:
    """The original audio of ``rows``, at the representation's sample rate and length."""
    by_id = {c.clip_id: c for c in ctx.dataset(ctx.guitar).clips}
    return np.stack([fit_to_length(load(by_id[data.clip_ids[r]].path, sr=SPEC.sr)[0], length=SPEC.n_samples)
                     for r in rows])
