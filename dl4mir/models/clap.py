"""Audio–language models: an audio tower and a text tower meeting in one embedding space (lesson "audio-language";
CLIP, Radford et al. 2021; MusCALL, Manco et al. 2022; Wav2CLIP, Wu et al. 2022).

**Towers.**  Audio: the course's log-mel CNN (:class:`dl4mir.models.cnn.CNN`, its pooled features) and a two-layer
projection.  Text: the frozen all-MiniLM-L6-v2 sentence encoder (:mod:`dl4mir.features.text`, 384-d, computed once
per caption outside the model) and a trainable two-layer projection.  Both ends are unit vectors, so a dot product is
a cosine similarity and search over many clips is one matrix product.

**Objectives** (``objective``):

- ``infonce`` (CLAP/MusCALL): in a batch of B (clip, caption) pairs, each clip must pick out its own caption among
  the B and each caption its clip; cross-entropy of the similarity matrix scaled by a learnable ``1/temperature``
  (CLIP's ``logit_scale``, kept at most 100), averaged over both directions.  Clips whose captions are the same
  sentence are each other's positives, not negatives (a synthetic dataset describes many clips alike).
- ``content_aware > 0`` (in the spirit of MusCALL's content-aware weighting): the targets are blended with a
  distribution over the batch from the captions' own similarity, so a clip is not pushed away from a caption that
  says nearly the same about it.
- ``distill`` (Wav2CLIP): no text projection; the audio tower regresses straight into the frozen text space (cosine
  loss to its caption's MiniLM embedding).  Wav2CLIP distils from CLIP's image tower, which cannot be loaded offline;
  here the teacher is the sentence encoder.

Zero-shot classification needs nothing more: each class becomes prompts, their text embeddings a class vector, and
a clip takes the class whose vector is most similar (:func:`dl4mir.train.retrieval.zero_shot`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from dl4mir.errors import ParameterError
from dl4mir.models.cnn import CNN, CNNConfig

OBJECTIVES = ("infonce", "distill")
MAX_LOGIT_SCALE = 100.0  # CLIP's clamp: a temperature below 0.01 makes the softmax a hard max


@dataclass
class CLAPConfig:
    n_mels: int = 64
    n_frames: int = 126  # the data says (TaskData.input_shape)
    text_dim: int = 384  # the frozen sentence encoder's size
    embed_dim: int = 128  # the joint space (distill: text_dim)
    channels: tuple = (16, 32, 64, 64)  # the course CNN's
    time_pool: int = 2  # frames averaged before the CNN (16 ms → 32 ms hops): half the cost, effects still heard
    dropout: float = 0.1
    objective: str = "infonce"  # or "distill" (Wav2CLIP-style regression into the text space)
    content_aware: float = 0.0  # 0–1: share of the targets drawn from caption–caption similarity
    content_temperature: float = 0.05  # how peaked that similarity distribution is
    init_temperature: float = 0.07  # CLIP's starting temperature (learned)

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ParameterError(f"objective {self.objective!r} is not one of {', '.join(OBJECTIVES)}")
        if not 0 <= self.content_aware <= 1:
            raise ParameterError(f"content_aware must be in [0, 1], got {self.content_aware}")
        if self.time_pool < 1:
            raise ParameterError(f"time_pool must be at least 1, got {self.time_pool}")
        if not 0 < self.init_temperature < 1:
            raise ParameterError(f"init_temperature must be in (0, 1), got {self.init_temperature}")


def info_nce(audio: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor,
             targets: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE of unit vectors ``audio`` and ``text`` ``(B, D)``, row i of each a pair.

    ``targets`` ``(B, B)``: each row a distribution over the batch's captions (default: the identity).  The loss is
    the mean of cross-entropy(audio_i → texts, targets_i) and cross-entropy(text_j → clips, targets_·j)."""
    logits = logit_scale * audio @ text.T  # (B, B): clip i against caption j
    if targets is None:
        targets = torch.eye(len(audio), device=audio.device, dtype=logits.dtype)
    a2t = -(targets * logits.log_softmax(dim=1)).sum(dim=1).mean()
    t2a = -(targets.T * logits.T.log_softmax(dim=1)).sum(dim=1).mean()
    return (a2t + t2a) / 2


def _projection(d_in: int, d_out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, d_out), nn.GELU(), nn.Linear(d_out, d_out))


class CLAP(nn.Module):
    input_kind = "captions"  # log-mel clips paired with caption embeddings (dl4mir.train.data.prepare_captions)
    own_objective = True
    default_task = "captions"

    def __init__(self, cfg: CLAPConfig):
        super().__init__()
        self.cfg = cfg
        self.val_metric = "loss"
        out_dim = cfg.text_dim if cfg.objective == "distill" else cfg.embed_dim
        self.audio = CNN(CNNConfig(n_mels=cfg.n_mels, n_classes=1, channels=tuple(cfg.channels), dropout=0.0))
        del self.audio.head  # its pooled features feed the projection instead of a classifier
        self.dropout = nn.Dropout(cfg.dropout)
        self.audio_proj = _projection(cfg.channels[-1], out_dim)
        self.text_proj = _projection(cfg.text_dim, cfg.embed_dim) if cfg.objective == "infonce" else nn.Identity()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / cfg.init_temperature)))

    @property
    def embed_dim(self) -> int:
        return self.cfg.text_dim if self.cfg.objective == "distill" else self.cfg.embed_dim

    def embed_audio(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T) standardized log-mel
        if self.cfg.time_pool > 1:
            x = F.avg_pool1d(x, self.cfg.time_pool, ceil_mode=True)  # (B, n_mels, T / time_pool)
        return F.normalize(self.audio_proj(self.dropout(self.audio.embed(x))), dim=-1)  # (B, D)

    def embed_text(self, t: torch.Tensor) -> torch.Tensor:  # t: (B, 384) sentence embeddings
        return F.normalize(self.text_proj(t), dim=-1)  # (B, D)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)

    def targets(self, t: torch.Tensor) -> torch.Tensor:
        """``(B, B)`` targets for captions ``t``: the same sentence counts as a positive; with ``content_aware``,
        blended with a softmax of the captions' similarity."""
        sim = t @ t.T
        same = (sim > 1 - 1e-5).to(t.dtype)
        hard = same / same.sum(dim=1, keepdim=True)
        if not self.cfg.content_aware:
            return hard
        soft = (sim / self.cfg.content_temperature).softmax(dim=1)
        return (1 - self.cfg.content_aware) * hard + self.cfg.content_aware * soft

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None, *, step: int | None = 0):
        """With captions ``t`` ``(B, 384)``: the objective and its terms; without: the clips' embeddings."""
        a = self.embed_audio(x)
        if t is None:
            return a
        t = F.normalize(t.float(), dim=-1)
        if self.cfg.objective == "distill":
            loss = (1 - (a * t).sum(dim=1)).mean()
            e = t
        else:
            e = self.embed_text(t)
            loss = info_nce(a, e, self.scale(), self.targets(t))
        with torch.no_grad():  # how often a clip's nearest caption in the batch says what its own does
            sim = a @ e.T
            hit = (t @ t.T)[torch.arange(len(t)), sim.argmax(dim=1)] > 1 - 1e-5
        logs = {"loss": loss, "batch_top1": hit.float().mean()}
        if self.cfg.objective == "infonce":
            logs["temperature"] = 1 / self.scale().detach()
        return logs
