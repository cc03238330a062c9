# %% [markdown]
# # 10 · Variational autoencoders and GANs
#
# *Do generated notes sound like the effect asked for, and are they new rather than copies?*  A conditional VAE
# and a GAN sample notes for a chosen effect; a CNN judge trained on real notes says whether it hears the effect
# asked for; Fréchet distance, diversity and nearest-neighbour ratios say how real, varied and new they are.

# %%
from dl4mir.lessons import _generative, notebook_context, run_lesson, vae_gan
from dl4mir.lessons.budgets import epochs

ctx = notebook_context("vae-gan")
data = _generative.spectrograms(ctx, "effect")
print(len(data.classes), "effects;", {split: len(data.rows(split)) for split in ("train", "val", "test")}, "clips")
print("the CVAE:", vae_gan.MODEL_CONFIG["cvae"], "— epochs this profile:", epochs("vae-gan", ctx.profile))

# %% [markdown]
# β weighs the KL term of the ELBO.  With 16,384 spectrogram cells counted as independent evidence, β = 1 lets
# the code carry everything and prior samples fall between the posteriors; the lesson's large β trades some
# reconstruction for samples the judge recognizes.  The whole lesson, as `dl4mir run` runs it:

# %%
record = run_lesson("vae-gan", ctx)
ctx.show()
print(record["metrics"]["answer"])
for key, label in record["headline_labels"].items():
    print(f"{label}: {record['headline'][key]}")
