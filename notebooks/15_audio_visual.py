# %% [markdown]
# # 15 · Audio-visual: separate the sound of each instrument in a video, and find where it comes from
#
# *Can a model learn to separate and locate sounds from unlabelled videos alone?* (The Sound of Pixels, Zhao et al.
# 2018; "How to Listen?", Wu et al. 2022; FlowGrad.)  `av-scenes` holds short videos of instrument sprites that
# move while they sound, solos and duets, some with a silent instrument in view; for every clip the sound of each
# source and where it is in each frame are known, so separation and localization can be scored.

# %%
from dl4mir.lessons import audio_visual, notebook_context, run_lesson
from dl4mir.lessons.budgets import AUDIO_VISUAL, per_profile
from dl4mir.train.scenes import load_scenes

ctx = notebook_context("audio-visual")
scenes = load_scenes(ctx.scenes, sr=audio_visual.SR, n_samples=audio_visual.N_SAMPLES, n_frames_in=3,
                     frame_size=112, profile=ctx.profile)
print(f"{len(scenes.clip_ids)} solo videos of {len(scenes.classes)} instruments: {', '.join(scenes.classes)}")
print("frames kept per video:", scenes.frames.shape[1:], "— sound:", scenes.audio.shape[1] / scenes.sr, "s")

# %% [markdown]
# **Mix and separate.**  Take two solo videos, add their sounds, and ask a network to give each video its own sound
# back, using that video's frames.  Nobody labels anything: the solos supervise themselves.  The video network
# turns frames into a few features per place in the picture; the audio U-Net turns the mixture's spectrogram into
# as many feature maps; their inner product is a mask over the mixture, one per video.  Applied at every place
# instead of the whole picture, the same product says which pixels account for which part of the sound.
#
# The lesson trains it, separates held-out mixtures of 2 and 3 (against NMF and the ideal ratio mask), locates the
# sound with and without motion (a silent twin of the player cannot be told apart by looks), and recognizes which
# of 8 instruments play in mixtures of 1–4.

# %%
budget = per_profile(AUDIO_VISUAL, ctx.profile)
print("budget:", budget)
record = run_lesson("audio-visual", ctx)
ctx.show()
print(record["metrics"]["answer"])
