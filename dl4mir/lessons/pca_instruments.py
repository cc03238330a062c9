"""Lesson 3b: PCA and t-SNE of instrument notes (spectral statistics + MFCC), coloured by instrument and family."""
from __future__ import annotations

import numpy as np
from sklearn.manifold import TSNE
from sklearn.preprocessing import StandardScaler

from dl4mir.classic import PCA
from dl4mir.metrics import silhouette
from dl4mir.report import plots

HEADLINE = {"pca_variance_2pc": "variance kept by 2 principal components",
            "silhouette_pca_instrument": "silhouette by instrument: PCA",
            "silhouette_tsne_instrument": "silhouette by instrument: t-SNE"}


def embeddings(X: np.ndarray, *, seed: int = 0) -> dict:
    """2-D maps of the feature rows ``X``: PCA (linear, fit on everything) and t-SNE (standardized features);
    UMAP too when the optional umap-learn is installed."""
    pca = PCA(n_components=2, standardize=True).fit(X)
    out = {"pca": pca.transform(X), "pca_model": pca}
    Xs = StandardScaler().fit_transform(X)
    out["tsne"] = TSNE(n_components=2, perplexity=min(30, len(X) // 4), random_state=seed, init="pca").fit_transform(Xs)
    try:
        import umap  # optional: its numba warm-up costs ~100 s
    except ImportError:
        return out
    out["umap"] = umap.UMAP(random_state=seed).fit_transform(Xs)
    return out


def run(ctx) -> dict:
    table = ctx.table(ctx.instruments, "stats:sr=16000")
    X = table.X.astype(float)
    instrument, family = table.column("instrument"), table.column("family")
    maps = embeddings(X, seed=ctx.seed)
    ratio = maps["pca_model"].explained_variance_ratio_
    plots.scatter(ctx.figure("pca_instruments", "PCA-2 of per-note feature statistics, by instrument"), maps["pca"],
                  instrument, title="PCA of instrument notes", xlabel=f"PC1 ({ratio[0]:.0%})", ylabel=f"PC2 ({ratio[1]:.0%})")
    plots.scatter(ctx.figure("tsne_instruments", "t-SNE of the same features, by instrument"), maps["tsne"], instrument,
                  title="t-SNE of instrument notes", xlabel="t-SNE 1", ylabel="t-SNE 2")
    sil = {f"{m}_{by}": silhouette(maps[m], labels) for m in ("pca", "tsne") for by, labels in
           (("instrument", instrument), ("family", family))}
    out = {"pca_variance_2pc": float(ratio.sum()), "silhouette": sil}
    if "umap" in maps:
        plots.scatter(ctx.figure("umap_instruments", "UMAP of the same features"), maps["umap"], instrument,
                      title="UMAP of instrument notes", xlabel="UMAP 1", ylabel="UMAP 2")
        sil["umap_instrument"] = silhouette(maps["umap"], instrument)
    else:
        out["umap"] = "not installed (pip install umap-learn to add it)"
    out["headline"] = {"pca_variance_2pc": out["pca_variance_2pc"], "silhouette_pca_instrument": sil["pca_instrument"],
                       "silhouette_tsne_instrument": sil["tsne_instrument"]}
    out["answer"] = answer(sil, out["pca_variance_2pc"])
    return out


def answer(sil: dict, variance_2pc: float) -> str:
    p, t = sil["pca_instrument"], sil["tsne_instrument"]
    text = f"Two principal components keep {variance_2pc:.0%} of the variance. "
    if t > p:
        text += (f"t-SNE pulls instruments into tighter clusters than the linear projection (silhouette {t:.2f} "
                 f"against {p:.2f}); PCA keeps distances meaningful, t-SNE only neighbourhoods.")
    else:
        text += (f"In this run t-SNE does not cluster instruments better than PCA (silhouette {t:.2f} against "
                 f"{p:.2f}).")
    fam = sil["tsne_family"] > sil["tsne_instrument"]
    return text + (" Families cluster more clearly than single instruments." if fam else
                   " Single instruments cluster at least as clearly as families.")
