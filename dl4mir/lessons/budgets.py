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


def epochs(lesson: str, profile: str) -> dict:
    table = EPOCHS[lesson]
    return table.get(profile, table["default"])


def per_profile(table: dict, profile: str):
    return table.get(profile, table["default"])
