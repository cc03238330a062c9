"""The ``synth-presets`` dataset (issue 14): every note is its patch rendered at its pitch, the metadata's [0, 1]
vector is that patch, patches are held out whole, and a damaged folder is an error naming the file and line."""
import json
import shutil

import numpy as np
import pytest

from dl4mir.data import get_dataset
from dl4mir.data.dataset import SYNTH_PRESETS_METADATA
from dl4mir.data.synth.synth_presets import SynthPresetsConfig, draw_patch
from dl4mir.errors import ConfigError, DatasetError
from dl4mir.features import spectral as F
from dl4mir.synth import patches


@pytest.fixture(scope="module")
def presets(_dl4mir_home):
    return get_dataset("synth-presets", profile="quick")


def test_every_note_is_its_patch_at_its_pitch(presets):
    cfg = SynthPresetsConfig.profile("quick")
    assert len(presets.clips) == len(cfg.synths) * cfg.n_patches * len(cfg.midi)
    assert presets.validate().ok  # audio and patch files against the index
    for clip in presets.clips[::5]:
        synth = clip.labels["synth"]
        patch = patches.load(presets.root / "patches" / synth / f"{clip.groups['patch']}.json", synth)
        assert patch == pytest.approx(draw_patch(synth, int(clip.groups["patch"].rsplit("_", 1)[1]), cfg.seed))
        assert patches.normalize(patch, synth) == pytest.approx(clip.labels["params_unit"], abs=1e-6)
        y, sr = clip.load()
        again = patches.render(synth, patch, f0_hz=clip.labels["f0_hz"], note_s=clip.labels["note_s"],
                               duration_s=cfg.duration_s, sample_rate=sr, seed=0)
        gain = 10 ** (clip.labels["gain_db"] / 20)
        if synth != "harmonic-noise":  # its noise is drawn per patch; the harmonics alone would differ by it
            assert np.abs(y - gain * again).max() < 2e-3  # PCM_16 and float32
        assert np.abs(y).max() <= 0.9 + 1e-3


def test_patches_are_held_out_whole(presets):
    from dl4mir.data.splits import make_split

    convention = {k: v for k, v in presets.reader.split_convention(presets).items() if k != "note"}
    plan = make_split(presets.clips, **convention, n_folds=2, seed=0)
    patch_of = {c.clip_id: c.groups["patch"] for c in presets.clips}
    test = {patch_of[i] for i in plan.test}
    assert test and all(not test & {patch_of[i] for i in fold["train"] + fold["val"]} for fold in plan.folds)
    assert all(not {patch_of[i] for i in fold["train"]} & {patch_of[i] for i in fold["val"]} for fold in plan.folds)


def test_a_damaged_folder_is_named(presets, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(presets.root, root)
    meta = root / SYNTH_PRESETS_METADATA
    lines = meta.read_text().splitlines()
    meta.write_text("\n".join(lines[:3] + [lines[3].rsplit(",", 1)[0] + ",0.5 1.7"] + lines[4:]) + "\n")
    with pytest.raises(DatasetError, match=r"synth_presets_metadata.csv:4: params_unit must be numbers in \[0, 1\]"):
        get_dataset(f"synth-presets:{root}").clips
    meta.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    with pytest.raises(DatasetError, match="have no row in synth_presets_metadata.csv"):
        get_dataset(f"synth-presets:{root}").clips
    meta.write_text("path,synth\n")
    with pytest.raises(DatasetError, match="synth_presets_metadata.csv:1: header"):
        get_dataset(f"synth-presets:{root}").clips
    with pytest.raises(ConfigError, match="unknown synth 'moog'"):
        SynthPresetsConfig(synths=("moog",))
    with pytest.raises(ConfigError, match="n_patches must be >= 2"):
        SynthPresetsConfig(n_patches=1)
