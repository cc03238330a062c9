# %% [markdown]
# # 2 · Audio features
#
# *Which features separate instruments?*  MFCCs and spectral-shape features of the TinySOL-layout `instruments`
# dataset, summarized per clip and ranked by how well each separates the instrument families.

# %%
import os

import numpy as np

from dl4mir.data import get_dataset
from dl4mir.features import spectral as F
from dl4mir.features.cache import FeatureSpec, load_table, stats_feature_names
from dl4mir.lessons.features import fisher_ratio

PROFILE = os.environ.get("DL4MIR_PROFILE", "default")
instruments = get_dataset("instruments", profile=PROFILE)
y, sr = instruments.clips[0].load(sr=16000)
mel = F.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=256, n_mels=64)
mfcc = F.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=1024, hop_length=256, n_mels=64)
print("mel", mel.shape, "MFCC", mfcc.shape)
print("centroid (Hz), first frames:", F.spectral_centroid(y=y, sr=sr, n_fft=1024, hop_length=256)[0, :3].round(1))

# %% [markdown]
# A feature table caches one summary vector per clip (mean and standard deviation over frames).

# %%
table = load_table(instruments, FeatureSpec.parse("stats:sr=16000"))
names = stats_feature_names()
ratio = fisher_ratio(table.X.astype(float), table.column("family"))
for i in np.argsort(ratio)[::-1][:5]:
    print(f"{names[i]:20s} Fisher ratio {ratio[i]:.2f}")
