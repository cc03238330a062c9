"""A conditional DCGAN on log-magnitude spectrograms (lesson 10), trained with a recipe known to be stable.

* Generator: ``z ~ N(0, I)`` and a class embedding → a C·(F/16)·(T/16) grid → four upsampling blocks
  (×2 nearest neighbour, 3×3 convolution, batch norm, ReLU) → ``(B, F, T)``, DCGAN-style (Radford et al. 2016).
* Discriminator: four strided convolutions with **spectral normalization** (Miyato et al. 2018), which bounds its
  Lipschitz constant and is the single most effective stabilizer; global sum pooling; a **projection** of the
  class embedding onto the features (Miyato & Koyama 2018) makes it conditional.
* **Hinge loss**: ``L_D = E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))]``, ``L_G = −E[D(G(z))]``.
* **Two time-scale updates** (Heusel et al. 2017) with Adam β = (0, 0.9) as in SAGAN: the discriminator's learning
  rate is ``d_lr_ratio`` times the generator's.

The one training loop minimizes one scalar, so both players are updated in the same step (simultaneous gradient
descent): ``L_D`` sees the fake batch detached, so it moves only the discriminator; ``L_G`` is computed with the
discriminator's weights frozen, so it moves only the generator.  ``loss = L_D + L_G``.

There is no validation loss that says "better samples" for a GAN: the loop keeps the last epoch; quality is judged
by the generation metrics of :mod:`dl4mir.metrics` (classifier accuracy, Fréchet distance, diversity).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass
class GANConfig:
    latent_dim: int = 64
    n_classes: int = 13
    n_freq: int = 256
    n_frames: int = 64
    channels: tuple[int, ...] = (32, 64, 128, 256)  # discriminator, fine → coarse; the generator mirrors it
    cond_dim: int = 32
    d_lr_ratio: float = 4.0  # discriminator learning rate / generator learning rate


class Generator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        down = 2 ** len(cfg.channels)
        self.grid = (cfg.channels[-1], cfg.n_freq // down, cfg.n_frames // down)
        self.embed = nn.Embedding(cfg.n_classes, cfg.cond_dim)
        self.stem = nn.Sequential(nn.Linear(cfg.latent_dim + cfg.cond_dim, self.grid[0] * self.grid[1] * self.grid[2]),
                                  nn.ReLU())
        chans = list(reversed(cfg.channels))
        layers = []
        # nearest-neighbour upsampling + 3×3 convolution rather than transposed convolutions, whose uneven
        # kernel overlap paints a checkerboard that a discriminator spots at once (Odena et al. 2016)
        for a, b in zip(chans[:-1], chans[1:]):
            layers += [nn.Upsample(scale_factor=2), nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b),
                       nn.ReLU()]
        layers += [nn.Upsample(scale_factor=2), nn.Conv2d(chans[-1], 1, 3, padding=1)]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.stem(torch.cat([z, self.embed(cond)], dim=1)).view(-1, *self.grid)  # (B, C, F/16, T/16)
        return self.body(h).squeeze(1)  # (B, F, T)


class Discriminator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        layers, c_in = [], 1
        for c in cfg.channels:
            layers += [spectral_norm(nn.Conv2d(c_in, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c_in = c
        self.body = nn.Sequential(*layers)
        self.out = spectral_norm(nn.Linear(c_in, 1))
        self.embed = spectral_norm(nn.Embedding(cfg.n_classes, c_in))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.body(x.unsqueeze(1)).sum(dim=(2, 3))  # (B, C)
        return self.out(h).squeeze(1) + (self.embed(cond) * h).sum(1)  # (B,) unbounded score


class GAN(nn.Module):
    input_kind = "logmag"
    val_metric = None  # no loss tracks sample quality; keep the last epoch
    betas = (0.0, 0.9)

    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        self.generator = Generator(cfg)
        self.discriminator = Discriminator(cfg)

    def param_groups(self, lr: float) -> list[dict]:
        return [{"params": list(self.generator.parameters()), "lr": lr},
                {"params": list(self.discriminator.parameters()), "lr": lr * self.cfg.d_lr_ratio}]

    def sample(self, n: int, cond: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        z = torch.randn(n, self.cfg.latent_dim, generator=generator).to(device)
        return self.generator(z, cond.to(device))

    def forward(self, x: torch.Tensor, cond: torch.Tensor, *, step: int = 0) -> dict:
        D = self.discriminator
        fake = self.generator(torch.randn(x.shape[0], self.cfg.latent_dim, device=x.device), cond)
        d_real, d_fake = D(x, cond), D(fake.detach(), cond)
        loss_d = torch.relu(1 - d_real).mean() + torch.relu(1 + d_fake).mean()
        D.requires_grad_(False)  # the generator's loss must not move the discriminator
        loss_g = -D(fake, cond).mean()
        D.requires_grad_(True)
        return {"loss": loss_d + loss_g, "loss_d": loss_d, "loss_g": loss_g,
                "d_real": d_real.mean(), "d_fake": d_fake.mean()}
