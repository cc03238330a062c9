# %% [markdown]
# # 3 · Datasets and PCA
#
# *Which features maximally separate two effects?*  The dataset's checksums are validated, a leakage-free split
# holds out a guitar string, and PCA (fit on the development strings only) projects |FFT| dB spectra to 2-D.

# %%
import os

import numpy as np

from dl4mir.classic import PCA
from dl4mir.metrics import silhouette
from dl4mir.data import get_dataset
from dl4mir.data.splits import default_split
from dl4mir.features.cache import FeatureSpec, load_table

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
guitar = get_dataset("guitar-fx", profile=PROFILE)
print(guitar.validate().ok, "— every file matches its checksum")
plan = default_split(guitar)
print(f"test = string {plan.test_groups}, {len(plan.test)} clips")

# %%
table = load_table(guitar, FeatureSpec.parse("spectrum_db:sr=8000,duration_s=0.5"))
effects, ids = table.column("effect"), np.array(table.clip_ids)
pair = np.isin(effects, ["clean", "tube screamer"])
dev = pair & ~np.isin(ids, plan.test)
pca = PCA(n_components=2).fit(table.X[dev].astype(float))
Z = pca.transform(table.X[pair].astype(float))
print(f"variance explained by 2 PCs: {pca.explained_variance_ratio_.sum():.1%}")
print(f"silhouette of clean vs tube screamer in 2-D: {silhouette(Z, effects[pair]):.2f}")
