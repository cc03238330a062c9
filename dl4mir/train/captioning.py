"""Using and scoring a captioner (:mod:`dl4mir.models.captioner`): captions for clips and files, the retrieval
baseline, and how good the captions are.

    model, meta = load_captioner("runs/train/clipcap-captions/export")
    caption_files(model, meta, ["my_guitar.wav"]).ok      # {file: "a dark tape-echoed note on the neck pickup"}

Captions are scored against each held-out clip's captions in the *training* wording (the only words a captioner
can know): corpus BLEU-4 and CIDEr-D, and — what matters to a user — whether the caption names the clip's effect,
pickup and register (read back with the caption grammar, :func:`dl4mir.features.describe.attributes`).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from dl4mir.audio import BatchResult
from dl4mir.data import get_dataset
from dl4mir.errors import DatasetError
from dl4mir.features import text
from dl4mir.features.describe import FRAMES, attribute_truth, attributes
from dl4mir.metrics import caption_report
from dl4mir.models import CAPTIONERS
from dl4mir.train.checkpoint import load_exported
from dl4mir.train.data import prepare_captions
from dl4mir.train.predict import BATCH, file_windows
from dl4mir.train.retrieval import embed_features


def load_captioner(export_dir: str | os.PathLike):
    """``(model, meta)`` of an exported captioner; anything else is refused with what it is."""
    return load_exported(Path(export_dir), families=CAPTIONERS,
                         need="captions need a captioner (dl4mir train clipcap --audio-model CLAP_RUN/export)")


def caption_clips(model, X: torch.Tensor) -> list[str]:
    """Captions of standardized log-mel clips ``X`` ``(N, n_mels, frames)``."""
    return [c for i in range(0, len(X), BATCH) for c in model.caption(X[i:i + BATCH])]


def caption_files(model, meta: dict, paths, *, hop_s: float | None = None) -> BatchResult:
    """``BatchResult`` whose ``ok`` maps each readable file to its caption: the model's windows over the whole file
    (as ``dl4mir predict`` cuts them) embedded by its audio tower, averaged, renormalized and captioned."""
    result = BatchResult()
    for p, w in file_windows(meta, paths, result, hop_s=hop_s):
        e = embed_features(model.clap, w.x).mean(axis=0)
        e = torch.from_numpy(e / max(float(np.linalg.norm(e)), 1e-12))[None]
        result.ok[p] = model.caption_embeddings(e)[0]
    return result


def nearest_captions(clap, data, rows) -> list[str]:
    """ClipCap's retrieval baseline: for each of ``rows``, the first training caption of the training clip whose
    audio embedding is nearest (cosine)."""
    train = data.rows("train")
    bank = embed_features(clap, data.X[torch.as_tensor(train)])
    query = embed_features(clap, data.X[torch.as_tensor(np.asarray(rows))])
    nearest = train[np.argmax(query @ bank.T, axis=1)]
    return [data.texts[data.captions[r][0]] for r in nearest]


def attribute_accuracy(said: list[dict], truth: list[dict]) -> dict:
    """Per slot of ``truth`` (effect, pickup, register …), for captions read back as ``said``
    (:func:`dl4mir.features.describe.attributes`): ``accuracy`` (captions naming the right value, over all),
    ``named`` (share naming any value) and ``precision`` (right among those naming one)."""
    out = {}
    for slot in truth[0] if truth else ():
        named_values = [s.get(slot) for s in said]
        right = sum(v == t[slot] for v, t in zip(named_values, truth))
        named = sum(v is not None for v in named_values)
        out[slot] = {"accuracy": right / len(truth), "named": named / len(truth), "precision": right / max(named, 1)}
    return out


def caption_scores(captions: list[str], data, rows, *, layout: str | None) -> dict:
    """BLEU-4 and CIDEr-D against each clip's training-wording captions; with a caption grammar's ``layout``
    (``egfxset``, ``tinysol``, ``vowels``), the attributes each caption names against the clip's labels."""
    tok = lambda s: " ".join(text.words(s))  # noqa: E731
    refs = [[tok(data.texts[i]) for i in data.captions[r]] for r in rows]
    out = caption_report([tok(c) for c in captions], refs)
    if layout is not None:
        truth = [attribute_truth({k: v[r] for k, v in data.labels.items()}, layout) for r in rows]
        out["attributes"] = attribute_accuracy([attributes(c, layout) for c in captions], truth)
    return out


def evaluate_captioner(model, meta: dict, data: str | None, *, profile: str = "default",
                       test_group: str | None = None) -> dict:
    """A captioner's captions of the held-out clips of ``data`` (the dataset spec it was trained on), scored by
    :func:`caption_scores` (attributes where the dataset's layout has a caption grammar)."""
    pairs = prepare_captions(data, profile=profile, test_group=test_group).standardized_as(meta["norm"])
    rows = pairs.rows("test")
    if not len(rows):
        raise DatasetError(f"{data}: nothing is held out for testing, so there are no captions to score")
    layout = get_dataset(data or "guitar-fx", profile=profile).reader.name
    captions = caption_clips(model, pairs.X[torch.as_tensor(rows)])
    return {**caption_scores(captions, pairs, rows, layout=layout if layout in FRAMES else None),
            "examples": [{"clip": pairs.clip_ids[r], "caption": c} for r, c in list(zip(rows, captions))[:10]]}
