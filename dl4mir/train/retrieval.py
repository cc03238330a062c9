"""Using an audio–language model (:mod:`dl4mir.models.clap`): embed audio, search it with words, label it with
classes nobody trained it on.

    index = dataset_index(model, meta, "guitar-fx")           # every clip's embedding, cached
    search(model, index, "a dark tape echo on the bridge pickup", k=10)
    zero_shot(model, embeddings, ["chorus", "phaser", "clean"])

Embeddings are unit vectors, so a query is one matrix product over the index: 10,000 clips × 128 dimensions is
1.3 M multiply-adds, well under a millisecond.  An approximate-nearest-neighbour index (FAISS, HNSW) pays off only
from millions of clips, where the product itself takes tens of milliseconds.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dl4mir.audio import BatchResult
from dl4mir.data import get_dataset
from dl4mir.data.dataset import dl4mir_home
from dl4mir.errors import ConfigError
from dl4mir.features import text
from dl4mir.features.bands import standardize_bands
from dl4mir.features.cache import FeatureSpec, load_table
from dl4mir.metrics import classification_report, precision_at_k, retrieval_report
from dl4mir.models import AUDIO_LANGUAGE
from dl4mir.train.checkpoint import load_exported
from dl4mir.train.predict import BATCH, file_windows

# prompt templates for zero-shot labels: generic phrasings, none of them a frame of the caption grammar, so a label
# is recognized from what the words mean, not from a sentence the model was trained on
TEMPLATES = ("{}", "the sound of {}", "a recording of {}", "an audio clip with {}")


def load_model(export_dir: str | os.PathLike):
    """``(model, meta)`` of an exported audio–language model; anything else is refused with what it is."""
    return load_exported(Path(export_dir), families=AUDIO_LANGUAGE,
                         need="searching and zero-shot labels need an audio–language model (dl4mir train clap)")


@torch.no_grad()
def embed_features(model, X: torch.Tensor) -> np.ndarray:
    """``(N, D)`` unit embeddings of standardized log-mel clips ``(N, n_mels, frames)``."""
    model.eval()
    out = [model.embed_audio(X[i:i + BATCH]) for i in range(0, len(X), BATCH)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.embed_dim), np.float32)


@torch.no_grad()
def embed_texts(model, texts) -> np.ndarray:
    """``(n, D)`` unit embeddings of sentences in the model's joint space."""
    return model.embed_text(torch.from_numpy(text.embed(list(texts)))).numpy()


def embed_files(model, meta: dict, paths, *, hop_s: float | None = None) -> BatchResult:
    """``BatchResult`` whose ``ok`` maps each readable file to its embedding: the model's windows over the whole
    file (as ``dl4mir predict`` cuts them), their embeddings averaged and renormalized."""
    result = BatchResult()
    for p, w in file_windows(meta, paths, result, hop_s=hop_s):
        e = embed_features(model, w.x).mean(axis=0)
        result.ok[p] = e / max(float(np.linalg.norm(e)), 1e-12)
    return result


@dataclass
class Index:
    """Embeddings of a dataset's clips, row-aligned with ``files`` and ``labels``."""

    embeddings: np.ndarray  # (N, D)
    files: list[str]
    labels: list[dict]
    cached: bool = False


def _weights_key(export_dir: Path) -> str:
    return hashlib.sha1((Path(export_dir) / "model.safetensors").read_bytes()).hexdigest()[:16]


def dataset_index(model, meta: dict, data: str, *, profile: str = "default", export_dir=None,
                  show_progress: bool | None = None) -> Index:
    """Every clip of ``data`` (any dataset spec) embedded with the model's feature recipe.  With ``export_dir`` the
    index is kept under ``dl4mir_home()/search_index``, keyed by the model's weights and the clips' files, so other
    weights or changed audio are embedded afresh."""
    ds = get_dataset(data, profile=profile, show_progress=show_progress)
    path = None
    if export_dir is not None:
        key = hashlib.sha1(repr((_weights_key(export_dir), meta["feature_spec"], ds.files_key())).encode())
        path = dl4mir_home() / "search_index" / f"{key.hexdigest()[:16]}.npz"
    cached = path is not None and path.is_file()
    if cached:
        saved = np.load(path)
        ids, emb = [str(i) for i in saved["clip_ids"]], saved["embeddings"]
    else:
        ids, emb = _embed_dataset(model, meta, ds, show_progress=show_progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, embeddings=emb, clip_ids=np.array(ids, dtype=str))
            os.replace(tmp, path)
    by_id = {c.clip_id: c for c in ds.clips}
    return Index(emb, [os.fspath(by_id[i].path) for i in ids], [by_id[i].labels for i in ids], cached)


def _embed_dataset(model, meta: dict, ds, *, show_progress: bool | None = None) -> tuple[list[str], np.ndarray]:
    """``(clip ids, embeddings)`` of every clip that can be embedded; the others are named on the console."""
    if ds.reader.name in ("folder", "captions"):  # clips of any length: the model's windows over each whole file
        ids = {os.fspath(c.path): c.clip_id for c in ds.clips}
        result = embed_files(model, meta, list(ids))
        if result.failures:
            print(result.summary())
        return [ids[p] for p in result.ok], np.stack(list(result.ok.values()))
    table = load_table(ds, FeatureSpec.parse(meta["feature_spec"]), show_progress=show_progress)
    if table.missing:
        print(f"note: {len(table.missing)} clip(s) without features are not searchable: {', '.join(table.missing[:5])}")
    X = standardize_bands(torch.from_numpy(table.X.astype(np.float32)), meta["norm"])
    return table.clip_ids, embed_features(model, X)


def search(model, index: Index, query: str, *, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` clips most similar to ``query``: ``[(file, cosine similarity), …]``, best first."""
    if not query.strip():
        raise ConfigError("the search query is empty")
    scores = index.embeddings @ embed_texts(model, [query])[0]
    top = np.argsort(-scores, kind="stable")[:k]
    return [(index.files[i], float(scores[i])) for i in top]


def _checked(labels) -> list[str]:
    labels = [str(lab).strip() for lab in labels]
    if len(labels) < 2 or any(not lab for lab in labels):
        raise ConfigError(f"zero-shot labels need at least two non-empty labels, got {labels}")
    if len(set(labels)) != len(labels):
        raise ConfigError(f"zero-shot labels repeat: {labels}")
    return labels


def check_templates(templates) -> tuple[str, ...]:
    """``templates`` as a tuple, each holding ``{}`` exactly once; anything else is an error naming it."""
    templates = tuple(templates)
    for t in templates or ("",):
        if t.count("{}") != 1 or "{" in t.replace("{}", "") or "}" in t.replace("{}", ""):
            raise ConfigError(f"prompt template {t!r}: a template holds {{}} exactly once, where the label goes")
    return templates


def description_vectors(model, label: str, *, templates=TEMPLATES) -> np.ndarray:
    """``(k, D)``: each of a label's ``|``-separated descriptions as the unit mean of its prompts' embeddings
    (``templates`` filled with it: CLIP's prompt ensembling)."""
    templates = check_templates(templates)
    out = []
    for d in (d.strip() for d in str(label).split("|")):
        if d:
            v = embed_texts(model, [t.format(d) for t in templates]).mean(axis=0)
            out.append(v / max(float(np.linalg.norm(v)), 1e-12))
    return np.stack(out)


def class_vectors(model, labels, *, templates=TEMPLATES) -> np.ndarray:
    """``(C, D)``: one unit vector per label, the mean of its descriptions' vectors (:func:`description_vectors`);
    what a text query for the class is."""
    out = [description_vectors(model, lab, templates=templates).mean(axis=0) for lab in _checked(labels)]
    return np.stack([v / max(float(np.linalg.norm(v)), 1e-12) for v in out])


def zero_shot(model, embeddings: np.ndarray, labels, *, templates=TEMPLATES) -> tuple[np.ndarray, np.ndarray]:
    """``(predicted label index (N,), score of each label (N, C))`` for audio ``embeddings``.  A label's score is
    the cosine similarity to its description; a label given as several descriptions (``"chorus|phaser|flanger"``)
    names a union of kinds of sound, so it scores its best-matching description (their maximum: a phaser is a
    modulation effect whether or not it resembles a chorus, which the mean of the three vectors would ask)."""
    emb = np.asarray(embeddings)
    sim = np.stack([(emb @ description_vectors(model, lab, templates=templates).T).max(axis=1)
                    for lab in _checked(labels)], axis=1)
    return sim.argmax(axis=1), sim


def coarse_accuracy(report: dict, coarse_of) -> float:
    """Accuracy of a :func:`zero_shot_report` at a coarser level (effect → effect type): the share of its confusion
    matrix where the true and predicted classes map to the same coarse class."""
    cm, coarse = np.asarray(report["confusion_matrix"]), [coarse_of(c) for c in report["labels"]]
    same = np.array([[a == b for b in coarse] for a in coarse])
    return float(cm[same].sum() / max(cm.sum(), 1))


def members(labels: dict, coarse: str, fine: str) -> dict[str, str]:
    """``{coarse class: "fine|fine|…"}``: each class of ``coarse`` (effect type) described by the ``fine`` classes
    (effects) found with it, the way one would tell a zero-shot model what "modulation" means."""
    pairs = sorted(set(zip(map(str, labels[coarse]), map(str, labels[fine]))))
    return {c: "|".join(f for cc, f in pairs if cc == c) for c in sorted({c for c, _ in pairs})}


def zero_shot_report(model, embeddings: np.ndarray, truth, descriptions: dict[str, str], *,
                     templates=TEMPLATES) -> dict:
    """Accuracy, balanced accuracy and confusion of zero-shot labels ``{class: its description}`` against
    ``truth`` (class names), with chance (one over the classes)."""
    names = list(descriptions)
    pred, _ = zero_shot(model, embeddings, list(descriptions.values()), templates=templates)
    predicted = [names[i] for i in pred]
    rep = classification_report([str(t) for t in truth], predicted, labels=names)
    return {"accuracy": rep["accuracy"], "balanced_accuracy": rep["balanced_accuracy"], "chance": 1 / len(names),
            "labels": names, "confusion_matrix": rep["confusion_matrix"]}


def caption_retrieval(model, data, rows, embeddings: np.ndarray) -> dict:
    """Exact-clip retrieval on ``rows`` of a :class:`~dl4mir.train.data.CaptionPairs` with their held-out-wording
    captions (the training wording when a clip has none): text → audio ranks the clips for each distinct sentence
    (relevant: the clips it describes; many clips share a sentence), audio → text ranks the sentences for each clip
    (relevant: its own)."""
    said = [[data.test_texts[i] for i in data.test_captions[r]] or [data.texts[i] for i in data.captions[r]]
            for r in rows]
    sentences = sorted({s for clip in said for s in clip})
    index = {s: i for i, s in enumerate(sentences)}
    relevant = np.zeros((len(sentences), len(rows)), dtype=bool)
    for j, clip in enumerate(said):
        relevant[[index[s] for s in clip], j] = True
    sim = embed_texts(model, sentences) @ np.asarray(embeddings).T  # (sentences, clips)
    return {"text_to_audio": retrieval_report(sim, relevant), "audio_to_text": retrieval_report(sim.T, relevant.T),
            "clips_per_sentence": float(relevant.sum(axis=1).mean())}


def class_query_precision(model, embeddings: np.ndarray, truth, *, k: int = 10, templates=TEMPLATES) -> dict:
    """For each class of ``truth`` a query naming it (``templates`` filled with its name, the prompt ensemble of
    :func:`class_vectors`):
    precision@k of the clips it ranks first, per class and averaged, with chance (the class's share)."""
    truth = np.asarray([str(t) for t in truth])
    classes = sorted(set(truth))
    sim = class_vectors(model, classes, templates=templates) @ np.asarray(embeddings).T
    relevant = truth[None, :] == np.array(classes)[:, None]
    p = precision_at_k(sim, relevant, k)
    return {"k": k, "per_class": dict(zip(classes, map(float, p))), "mean": float(p.mean()),
            "chance": float(relevant.mean(axis=1).mean())}


def search_latency_ms(model, *, n_items: int = 10_000, repeats: int = 20, seed: int = 0) -> float:
    """Median milliseconds of one :func:`search` over ``n_items`` random unit embeddings (the query's text
    embedding already cached: what an interactive search pays per query)."""
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n_items, model.embed_dim)).astype(np.float32)
    index = Index(emb / np.linalg.norm(emb, axis=1, keepdims=True), [str(i) for i in range(n_items)], [{}] * n_items)
    search(model, index, "a warm tape echo on the neck pickup", k=10)  # embeds (and caches) the query once
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        search(model, index, "a warm tape echo on the neck pickup", k=10)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))
