"""Lesson 3b: PCA and t-SNE of instrument notes (spectral statistics + MFCC), coloured by instrument and family."""
from __future__ import annotations


from dl4mir.classic import PCA, silhouette
from dl4mir.report import plots


def run(ctx) -> dict:
    table = ctx.table(ctx.instruments, "stats:sr=16000")
    X = table.X.astype(float)
    instrument, family = table.column("instrument"), table.column("family")
    pca = PCA(n_components=2).fit(X)
    Z = pca.transform(X)
    plots.scatter(ctx.figure("pca_instruments", "PCA-2 of per-note feature statistics, by instrument"), Z, instrument,
                  title="PCA of instrument notes", xlabel=f"PC1 ({pca.explained_variance_ratio_[0]:.0%})",
                  ylabel=f"PC2 ({pca.explained_variance_ratio_[1]:.0%})")
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    T = TSNE(n_components=2, perplexity=min(30, len(X) // 4), random_state=ctx.seed, init="pca").fit_transform(
        StandardScaler().fit_transform(X))
    plots.scatter(ctx.figure("tsne_instruments", "t-SNE of the same features, by instrument"), T, instrument,
                  title="t-SNE of instrument notes", xlabel="t-SNE 1", ylabel="t-SNE 2")
    out = {"pca_variance_2pc": float(pca.explained_variance_ratio_.sum()),
           "silhouette": {"pca_instrument": silhouette(Z, instrument), "pca_family": silhouette(Z, family),
                          "tsne_instrument": silhouette(T, instrument), "tsne_family": silhouette(T, family)}}
    try:  # UMAP when the optional umap-learn is installed
        import umap

        U = umap.UMAP(random_state=ctx.seed).fit_transform(StandardScaler().fit_transform(X))
        plots.scatter(ctx.figure("umap_instruments", "UMAP of the same features"), U, instrument,
                      title="UMAP of instrument notes", xlabel="UMAP 1", ylabel="UMAP 2")
        out["silhouette"]["umap_instrument"] = silhouette(U, instrument)
    except ImportError:
        out["umap"] = "not installed (pip install umap-learn to add it)"
    out["headline"] = {"variance in 2 PCs": out["pca_variance_2pc"],
                       "silhouette by instrument: PCA / t-SNE": f"{out['silhouette']['pca_instrument']:.2f} / "
                                                                f"{out['silhouette']['tsne_instrument']:.2f}"}
    out["answer"] = ("t-SNE pulls instruments into tighter clusters than a linear 2-D projection (higher silhouette); "
                     "PCA keeps distances meaningful, t-SNE only neighbourhoods.")
    return out
