# %% [markdown]
# # 3b · PCA and t-SNE of instruments
#
# *Do instrument families form clusters in two dimensions?*  Per-note feature statistics of the `instruments`
# dataset mapped to 2-D by PCA (linear) and t-SNE (nonlinear, neighbourhoods only), scored by the silhouette of
# instruments and of families in each map.

# %%
from dl4mir.lessons import notebook_context, pca_instruments, run_lesson
from dl4mir.metrics import silhouette

ctx = notebook_context("pca-instruments")
table = ctx.table(ctx.instruments, "stats:sr=16000")
X = table.X.astype(float)
print(X.shape[0], "notes ×", X.shape[1], "features")

# %% [markdown]
# PCA keeps the directions of largest variance; t-SNE keeps who is near whom and discards global distances, so
# only the silhouette of a t-SNE map (not its axes) means something.

# %%
maps = pca_instruments.embeddings(X, seed=ctx.seed)
print(f"PCA: 2 components keep {maps['pca_model'].explained_variance_ratio_.sum():.0%} of the variance")
for method in ("pca", "tsne"):
    print(f"{method:5s} silhouette by instrument {silhouette(maps[method], table.column('instrument')):.2f}, "
          f"by family {silhouette(maps[method], table.column('family')):.2f}")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it.

# %%
record = run_lesson("pca-instruments", ctx)
ctx.show()
print(record["metrics"]["answer"])
