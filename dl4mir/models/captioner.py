"""Audio captioning in the manner of ClipCap (Mokady, Hertz & Bermano 2021, "ClipCap: CLIP Prefix for Image
Captioning"): a frozen audio–language embedding, a small language model of captions, and a mapping network that
turns the one into a *prefix* for the other.

**Pieces.**

- The audio embedding: a trained :class:`~dl4mir.models.clap.CLAP`'s audio tower (its unit vectors in the joint
  space), frozen — ClipCap's frozen CLIP image encoder.
- The caption language model: a small causal transformer over words (``d_model`` wide, ``n_layers`` deep),
  reading a prefix of ``prefix_len`` vectors before the caption's words — ClipCap's GPT-2.  No pretrained language
  model can be loaded offline, so it learns the captions here, and is then frozen.
- The mapping network, ClipCap's two kinds: ``mapping="mlp"``: ``Linear(D, P·d/2) → tanh → Linear(P·d)``;
  ``mapping="transformer"``: the embedding projected to ``P`` vectors, followed by ``P`` learned constants,
  through a transformer encoder whose outputs at the constants' places are the prefix.

**Two phases.**  Phase 1 (``lm_steps`` optimizer steps) trains the language model and the mapping together from
the *text* side of the CLAP's joint space: the prefix comes from the CLAP text embedding of the clip's captions,
with Gaussian noise added (``text_noise``; CapDec, Nukrai et al. 2022: audio and text embeddings of one pair are
close but not equal, and the noise teaches the decoder to take any point near a caption's).  Phase 2 freezes the
language model and trains the mapping alone on the clips' *audio* embeddings, as ClipCap trains with a frozen GPT-2.

**Objective.**  Cross-entropy of each caption word given the prefix and the words before it (teacher forcing);
``<pad>`` positions do not count.  Evaluation (``step=None``) scores the captioner itself, audio → prefix → words.

Training reads each clip's embeddings — its audio's and its captions' text — computed once (the towers are frozen);
the audio tower stays in the model so that it captions audio.  **Use.**  :meth:`Captioner.caption` writes captions
for log-mel clips, :meth:`Captioner.caption_embeddings` for audio embeddings (the mean of a long file's windows), by
greedy decoding.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from dl4mir.errors import ConfigError, ParameterError
from dl4mir.features import text
from dl4mir.models.clap import CLAP, CLAPConfig

MAPPINGS = ("mlp", "transformer")


@dataclass
class CaptionerConfig:
    clap: dict = field(default_factory=dict)  # the frozen CLAP's config (CLAPConfig fields): given at training
    vocab: tuple = ()  # the caption words (the data's training wording): given at training
    max_tokens: int = 24  # words per caption at most
    mapping: str = "mlp"  # or "transformer" (ClipCap's two mapping networks)
    prefix_len: int = 4  # ClipCap: 10 (MLP) / 10-40 (transformer); captions here are short and few-worded
    d_model: int = 96
    n_layers: int = 2  # the caption language model's
    n_heads: int = 4
    mapping_layers: int = 2  # the transformer mapping's
    dropout: float = 0.1
    lm_steps: int = 400  # phase 1: the language model learns the captions from text embeddings; then it is frozen
    text_noise: float = 0.1  # std of the Gaussian noise on phase 1's text embeddings (CapDec's is about 0.13)

    def __post_init__(self):
        if self.mapping not in MAPPINGS:
            raise ParameterError(f"mapping {self.mapping!r} is not one of {', '.join(MAPPINGS)}")
        if self.d_model % self.n_heads:
            raise ParameterError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        for name in ("prefix_len", "max_tokens", "n_layers", "mapping_layers"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lm_steps < 0:
            raise ParameterError(f"lm_steps must be >= 0, got {self.lm_steps}")


def _encoder(d: int, heads: int, layers: int, dropout: float) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout, activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class CausalBlock(nn.Module):
    """A pre-norm transformer block whose attention looks only backwards (nanoGPT's: causal attention in one call,
    no mask to build)."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.p = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # h: (B, T, d)
        B, T, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(B, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.p if self.training else 0.0)
        h = h + self.drop(self.out(a.transpose(1, 2).reshape(B, T, d)))  # (B, H, T, d/H) → (B, T, d)
        return h + self.drop(self.mlp(self.norm2(h)))


class CaptionLM(nn.Module):
    """A causal transformer over ``[prefix (P), <bos> w1 … wn]`` predicting each next word."""

    def __init__(self, n_words: int, cfg: CaptionerConfig):
        super().__init__()
        self.words = nn.Embedding(n_words, cfg.d_model)
        nn.init.normal_(self.words.weight, std=0.02)  # GPT-2's: unit-variance rows make the tied output logits huge
        self.position = nn.Parameter(torch.zeros(cfg.prefix_len + cfg.max_tokens + 2, cfg.d_model))
        nn.init.normal_(self.position, std=0.02)
        self.blocks = nn.Sequential(*(CausalBlock(cfg.d_model, cfg.n_heads, cfg.dropout) for _ in range(cfg.n_layers)))
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, prefix: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Next-word logits ``(B, T, V)`` after each of ``tokens`` ``(B, T)``, given ``prefix`` ``(B, P, d)``."""
        h = torch.cat([prefix, self.words(tokens)], dim=1)  # (B, P + T, d)
        h = self.norm(self.blocks(h + self.position[:h.shape[1]]))
        return h[:, prefix.shape[1]:] @ self.words.weight.T  # (B, T, V): the output layer shares the word table


class MLPMapping(nn.Module):
    def __init__(self, d_in: int, cfg: CaptionerConfig):
        super().__init__()
        self.shape = (cfg.prefix_len, cfg.d_model)
        hidden = cfg.prefix_len * cfg.d_model // 2
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, cfg.prefix_len * cfg.d_model))

    def forward(self, e: torch.Tensor) -> torch.Tensor:  # e: (B, D)
        return self.net(e * e.shape[-1] ** 0.5).view(len(e), *self.shape)  # (B, P, d); unit vectors → unit entries


class TransformerMapping(nn.Module):
    def __init__(self, d_in: int, cfg: CaptionerConfig):
        super().__init__()
        self.shape = (cfg.prefix_len, cfg.d_model)
        self.project = nn.Linear(d_in, cfg.prefix_len * cfg.d_model)
        self.constants = nn.Parameter(torch.randn(cfg.prefix_len, cfg.d_model) * 0.02)
        self.blocks = _encoder(cfg.d_model, cfg.n_heads, cfg.mapping_layers, cfg.dropout)

    def forward(self, e: torch.Tensor) -> torch.Tensor:  # e: (B, D)
        h = self.project(e * e.shape[-1] ** 0.5).view(len(e), *self.shape)  # unit vectors → unit entries
        h = torch.cat([h, self.constants.expand(len(e), -1, -1)], dim=1)
        return self.blocks(h)[:, self.shape[0]:]  # (B, P, d): the outputs at the constants' places


class Captioner(nn.Module):
    input_kind = "captions"  # clips' CLAP embeddings paired with their captions' words (CaptionPairs.with_tokens)
    own_objective = True
    default_task = "captions"
    needs_audio_model = True  # trained on top of a CLAP (train_model(..., audio_model=(model, meta)))

    def __init__(self, cfg: CaptionerConfig):
        super().__init__()
        if not cfg.clap or not cfg.vocab:
            raise ConfigError("a captioner is built on a trained CLAP model (its config: clap=) and the captions' "
                              "words (vocab=); `dl4mir train clipcap --audio-model RUN/export` gives both")
        self.cfg = cfg
        # validation scores the captioner itself (audio → prefix → words), which means nothing while the language
        # model learns alone: keep the last epoch and never stop early (as RAVE's two phases do)
        self.val_metric = None
        self.vocab = tuple(cfg.vocab)
        self.clap = CLAP(CLAPConfig(**cfg.clap))
        self.clap.requires_grad_(False)
        self.lm = CaptionLM(len(self.vocab), cfg)
        self.mapping = (MLPMapping if cfg.mapping == "mlp" else TransformerMapping)(self.clap.embed_dim, cfg)
        self.pad = self.vocab.index(text.PAD)

    def train(self, mode: bool = True):
        super().train(mode)
        self.clap.eval()  # frozen: its batch-norm statistics and dropout stay as trained
        return self

    def phase(self, step: int | None) -> int:
        return 1 if step is not None and step < self.cfg.lm_steps else 2

    def embed(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, n_mels, T) standardized log-mel
        with torch.no_grad():
            return self.clap.embed_audio(x)  # (B, D) unit vectors

    def forward(self, e: torch.Tensor, tokens: torch.Tensor, *, step: int | None = 0) -> dict:
        """The objective for clips' embeddings ``e`` ``(B, 2, D)`` — the frozen CLAP's audio embedding and the CLAP
        text embedding of the clip's captions (computed once for the whole dataset by
        :func:`dl4mir.train.train_model`, as ClipCap precomputes CLIP's) — and captions ``tokens`` ``(B, T)``
        (``<bos>`` … ``<eos>`` ``<pad>``…)."""
        phase = self.phase(step)
        self.lm.requires_grad_(phase == 1)  # phase 2: frozen, only the mapping learns (ClipCap's frozen GPT-2)
        self.lm.train(self.training and phase == 1)
        if phase == 1:
            said = e[:, 1] + self.cfg.text_noise * torch.randn_like(e[:, 1])
            prefix = self.mapping(F.normalize(said, dim=-1))
        else:
            prefix = self.mapping(e[:, 0])
        logits = self.lm(prefix, tokens[:, :-1])  # (B, T - 1, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tokens[:, 1:].reshape(-1),
                               ignore_index=self.pad)
        with torch.no_grad():
            real = tokens[:, 1:] != self.pad
            right = (logits.argmax(-1) == tokens[:, 1:]) & real
        return {"loss": loss, "phase": torch.tensor(float(phase)), "word_accuracy": right.sum() / real.sum()}

    @torch.no_grad()
    def caption_embeddings(self, e: torch.Tensor) -> list[str]:
        """Greedy captions for audio embeddings ``e`` ``(B, D)`` (CLAP audio-tower unit vectors)."""
        self.eval()
        prefix = self.mapping(e)
        tokens = torch.full((len(e), 1), self.vocab.index(text.BOS), dtype=torch.long, device=e.device)
        eos = self.vocab.index(text.EOS)
        done = torch.zeros(len(e), dtype=torch.bool, device=e.device)
        for _ in range(self.cfg.max_tokens + 1):
            logits = self.lm(prefix, tokens)[:, -1]  # (B, V)
            logits[:, [self.pad, self.vocab.index(text.BOS), self.vocab.index(text.UNK)]] = -torch.inf
            nxt = torch.where(done, eos, logits.argmax(-1))
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            done |= nxt == eos
            if done.all():
                break
        return [text.decode_words(row[1:].tolist(), self.vocab) for row in tokens]

    def caption(self, x: torch.Tensor) -> list[str]:
        """Greedy captions for standardized log-mel clips ``x`` ``(B, n_mels, T)``."""
        self.eval()
        return self.caption_embeddings(self.embed(x))
