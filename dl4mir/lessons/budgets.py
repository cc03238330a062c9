"""How much work each lesson does per profile, in one place.  ``quick`` checks that the lessons run (tests, CI);
``default`` is the course within the main job's time budget on 2 CPU cores; ``full`` trains to convergence."""
from __future__ import annotations

# epochs per model (each epoch sees every training clip once)
EPOCHS = {
    "neural-networks": {"quick": {"mlp": 4, "cnn": 2, "waveform-cnn": 1, "crnn": 1, "transformer": 2},
                        "default": {"mlp": 4, "cnn": 3, "waveform-cnn": 1, "crnn": 2, "transformer": 3},
                        "full": {"mlp": 20, "cnn": 15, "waveform-cnn": 15, "crnn": 15, "transformer": 20}},
    "autoencoders": {"quick": {"ae": 1, "denoising-ae": 1}, "default": {"ae": 3, "denoising-ae": 1},
                     "full": {"ae": 15, "denoising-ae": 10}},
    "vae-gan": {"quick": {"cvae": 1, "gan": 1, "judge": 1}, "default": {"cvae": 2, "gan": 1, "judge": 1},
                "full": {"cvae": 15, "gan": 20, "judge": 8}},
}
# The quick profile stops the generative lessons' models after this many optimizer steps.
QUICK_STEPS = 6
# test clips rendered to audio for the autoencoders' waveform metrics
N_LISTEN = {"quick": 4, "default": 16, "full": 32}
# conditional samples drawn per effect in the VAE/GAN lesson
SAMPLES_PER_EFFECT = {"quick": 4, "default": 12, "full": 24}
# tempo-ssl: epochs of the self-supervised tempo models and of pitch-ssl, optimizer steps of each fine-tuning /
# labels-only run (default cut from 40 / 12 / 200 to keep the lesson under 90 s: BENCHMARKS.md)
TEMPO_SSL = {"quick": {"ssl": 8, "pitch": 4, "fine_tune_steps": 40},
             "default": {"ssl": 18, "pitch": 6, "fine_tune_steps": 100},
             "full": {"ssl": 100, "pitch": 40, "fine_tune_steps": 400}}
# synth-programming: estimator epochs, held-out notes refined and the steps of each refinement, the violin match's
# steps and random starts
# (decoder_epochs: passes of DDX7 and of HpN over the violin notes' half-second crops, batches of 8, the same for
# both; decoder_notes: held-out notes resynthesized and scored)
SYNTH_PROGRAMMING = {
    "quick": {"epochs": 2, "refine_notes": 1, "refine_steps": 5, "match_steps": 5, "restarts": 2,
              "decoder_epochs": 1, "decoder_notes": 3},
    "default": {"epochs": 8, "refine_notes": 2, "refine_steps": 80, "match_steps": 60, "restarts": 3,
                "decoder_epochs": 2, "decoder_notes": None},
    "full": {"epochs": 100, "refine_notes": 8, "refine_steps": 300, "match_steps": 300, "restarts": 8,
             "decoder_epochs": 60, "decoder_notes": None}}

# rave: optimizer steps of each phase (phase 1's β warm-up within it), the guitar files read per split, and the
# held-out notes both RAVE and the CVAE reconstruct
RAVE = {"quick": {"phase1": 6, "warmup": 3, "phase2": 3, "files": 40, "notes": 13},
        "default": {"phase1": 250, "warmup": 125, "phase2": 40, "files": 300, "notes": 39},
        "full": {"phase1": 20000, "warmup": 5000, "phase2": 10000, "files": None, "notes": 130}}

# audio-language: epochs of the CLAP model, captions per clip in each wording; the captioners trained on its
# embeddings, their epochs in all and how many of them train the language model (from text embeddings) before it
# is frozen (the default profile trains the MLP mapping only, for time; bench_audio_language.py trains both)
AUDIO_LANGUAGE = {
    "quick": {"epochs": 2, "per_clip": 2, "captioners": ("clipcap",), "caption_epochs": 2, "lm_epochs": 1},
    "default": {"epochs": 5, "per_clip": 2, "captioners": ("clipcap",), "caption_epochs": 6, "lm_epochs": 4},
    "full": {"epochs": 30, "per_clip": 3, "captioners": ("clipcap", "clipcap-transformer"), "caption_epochs": 40,
             "lm_epochs": 25}}

# audio-visual: epochs of Sound of Pixels (an epoch: 4 mixtures per training solo), of the correspondence localizer
# and of the polyphonic CNN; held-out mixtures separated per size (NMF, slow, on the first `nmf` of them); training
# mixtures for the MFCC baseline
AUDIO_VISUAL = {"quick": {"sop": 1, "localizer": 1, "polyphonic": 1, "mix2": 4, "mix3": 2, "nmf": 2, "baseline": 200},
                "default": {"sop": 4, "localizer": 4, "polyphonic": 10, "mix2": 24, "mix3": 12, "nmf": 8,
                            "baseline": 1000},
                "full": {"sop": 60, "localizer": 30, "polyphonic": 30, "mix2": 96, "mix3": 96, "nmf": 96,
                         "baseline": 4000}}


def epochs(lesson: str, profile: str) -> dict:
    table = EPOCHS[lesson]
    return table.get(profile, table["default"])


def per_profile(table: dict, profile: str):
    return table.get(profile, table["default"])
