# %% [markdown]
# # 14 · Audio and language: search sounds with words, label them with classes nobody trained on, caption them
#
# *Can a model that learned from sentences label effects it was never given labels for, how does it compare with a
# model trained on the labels, and can it describe a note in a sentence?* (MusCALL, Manco et al. 2022; Wav2CLIP, Wu
# et al. 2022; CLIP's zero-shot recipe; ClipCap, Mokady et al. 2021.)  Every guitar-fx clip is described in sentences written from its metadata and from facts measured in its
# audio; the sentences come in two wordings that share no phrase: one to train on, one held out for testing.

# %%
from dl4mir.lessons import audio_language, notebook_context, run_lesson
from dl4mir.lessons.budgets import AUDIO_LANGUAGE, per_profile

ctx = notebook_context("audio-language")
budget = per_profile(AUDIO_LANGUAGE, ctx.profile)
data, trained = audio_language.train(ctx, budget)
clip = 0
print("training wording:", [data.texts[i] for i in data.captions[clip]])
print("held-out wording:", [data.test_texts[i] for i in data.test_captions[clip]])

# %% [markdown]
# The model is two towers meeting in one space: the course's log-mel CNN with a projection, and the frozen
# all-MiniLM-L6-v2 sentence encoder with a projection. Symmetric InfoNCE asks each clip of a batch to pick out its
# own sentence among the batch's, and each sentence its clip, through a learned temperature. No effect label is
# used. Zero-shot: each effect name becomes prompts ("the sound of tape echo", …), and a clip takes the effect whose
# prompts are nearest.

# %%
model = trained.model
rows, emb = audio_language.embeddings(model, data, "test")
scores = audio_language.zero_shot_scores(model, data, rows, emb)
print(f"zero-shot effect {scores['effect']['accuracy']:.1%} (chance {scores['effect']['chance']:.1%}); "
      f"linear probe on the labels {scores['probe_effect']:.1%}")

# %% [markdown]
# Captions (ClipCap, Mokady et al. 2021). A small language model of the captions learns them first (reading a
# prefix made from each caption's own words), then is frozen; a mapping network, an MLP or a small transformer,
# learns to write that prefix from the CLAP's frozen audio embedding. The retrieval baseline copies the caption of
# the nearest training clip. A caption is read back with the caption grammar: does it name the clip's effect?

# %%
captions = audio_language.captioning(ctx, data, model, budget)
for name, got in captions.items():
    print(f"{name}: effect named right {got['attributes']['effect']['accuracy']:.1%}, BLEU-4 {got['bleu4']:.1f}, "
          f"CIDEr-D {got['cider']:.2f}; first held-out note: “{got['captions'][0]}”")

# %% [markdown]
# The whole lesson as `dl4mir run` runs it: zero-shot effect and effect type, text → audio precision for every
# effect, exact-caption retrieval both ways against chance, instruments the model never heard, a few queries
# with their top clips to listen to, and held-out notes with what each captioner says of them.

# %%
record = run_lesson("audio-language", ctx)
ctx.show()
print(record["metrics"]["answer"])
