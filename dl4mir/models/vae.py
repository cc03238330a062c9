"""Variational autoencoder (lesson 10), dense or convolutional, optionally conditional (CVAE).

The encoder outputs a Gaussian ``q(z|x) = N(μ, diag σ²)``; a code is drawn with the reparameterization trick
``z = μ + σ·ε`` so gradients flow through the sampling; the decoder's output is the mean of ``p(x|z) = N(x̂, s²I)``
with a fixed ``recon_sigma = s`` (in standardized units).  The loss is the negative ELBO divided by the number of
spectrogram cells (so one learning rate suits any image size)::

    loss = [ Σ (x − x̂)² / (2 s²)  +  β_t · Σ_j max(KL_j, free_bits) ] / (F·T)

* ``β`` trades reconstruction for a smoother, more sample-able latent space (β-VAE, Higgins et al. 2017);
* **KL warm-up**: ``β_t`` rises linearly from 0 to β over ``warmup_steps`` so the decoder learns to use the code
  before the KL term can switch it off (Bowman et al. 2016);
* **free bits**: each latent dimension's batch-mean KL below ``free_bits`` nats costs nothing, which keeps
  dimensions from collapsing to the prior (Kingma et al. 2016).  The logged ``kl`` is always the true KL.

The logged terms add up to the loss: ``loss = recon + beta_kl`` with ``recon = Σ (x − x̂)² / (2 s²) / (F·T)`` and
``beta_kl = β_t · Σ_j max(KL_j, free_bits) / (F·T)``; ``beta_t`` is logged too, so the warm-up can be followed in
``steps.csv``.  Validation scores the full objective (``step=None``: β_t = β), whatever the warm-up.

With ``n_classes > 0`` encoder and decoder both see a learned embedding of the condition (the effect, say), so the
code is free to hold what the label does not say; sampling ``z ~ N(0, I)`` with a chosen label generates that class.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dl4mir.models.autoencoder import AutoencoderConfig, Decoder, Encoder


@dataclass
class VAEConfig(AutoencoderConfig):
    beta: float = 1.0
    warmup_steps: int = 500
    free_bits: float = 0.1  # nats per latent dimension
    recon_sigma: float = 0.5


class VAE(nn.Module):
    input_kind = "logmag"
    val_metric = "recon_mse"

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.n_classes, cfg.cond_dim) if cfg.n_classes else None
        self.encoder = Encoder(cfg, 2 * cfg.latent_dim)
        self.decoder = Decoder(cfg, cfg.latent_dim)

    def _cond(self, cond):
        return None if self.embed is None else self.embed(cond)

    def posterior(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x, self._cond(cond)).chunk(2, dim=1)  # (B, d) each
        return mu, logvar.clamp(-12.0, 8.0)  # keeps exp() finite whatever the encoder outputs

    def encode(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.posterior(x, cond)[0]  # the posterior mean: the deterministic code

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z, self._cond(cond))  # (B, F, T)

    def reconstruct(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, cond), cond)

    def sample(self, n: int, cond: torch.Tensor | None = None, *, generator: torch.Generator | None = None):
        """``n`` draws from the prior, decoded: ``(n, F, T)``."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.cfg.latent_dim, generator=generator).to(device)
        return self.decode(z, None if cond is None else cond.to(device))

    def beta_at(self, step: int | None) -> float:
        """β after ``step`` optimizer steps of warm-up; ``None``: the full β."""
        if step is None or not self.cfg.warmup_steps:
            return self.cfg.beta
        return self.cfg.beta * min(1.0, step / self.cfg.warmup_steps)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None, *, step: int | None = 0) -> dict:
        if self.embed is None:
            cond = None
        mu, logvar = self.posterior(x, cond)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        x_hat = self.decode(z, cond)
        cells = x[0].numel()
        sq = (x_hat - x).pow(2)
        recon_nll = sq.flatten(1).sum(1).mean() / (2 * self.cfg.recon_sigma ** 2)  # per clip, up to a constant
        kl_dims = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)  # (d,) batch-mean KL per dimension
        kl_cost = kl_dims.clamp_min(self.cfg.free_bits).sum()
        beta_t = self.beta_at(step)
        loss = (recon_nll + beta_t * kl_cost) / cells
        return {"loss": loss, "recon": recon_nll / cells, "beta_kl": beta_t * kl_cost / cells,
                "beta_t": torch.tensor(beta_t), "kl": kl_dims.sum(), "recon_mse": sq.mean(),
                "elbo_per_cell": -(recon_nll + kl_dims.sum()) / cells}
