import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"
EGFX_SAMPLE = FIXTURES / "egfxset_sample"


@pytest.fixture(scope="session", autouse=True)
def _dl4mir_home(tmp_path_factory):
    """Generated data and built indexes go to a per-session folder, never the user's cache."""
    home = tmp_path_factory.mktemp("dl4mir_home")
    old = os.environ.get("DL4MIR_HOME")
    os.environ["DL4MIR_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("DL4MIR_HOME", None)
    else:
        os.environ["DL4MIR_HOME"] = old


@pytest.fixture(scope="session")
def quick_guitar_fx(_dl4mir_home):
    from dl4mir.data import get_dataset

    return get_dataset("guitar-fx", profile="quick")


@pytest.fixture
def tiny_guitar_fx(tmp_path):
    """Six files in EGFxSet's layout, fresh per test so tests may damage them."""
    from dl4mir.data.synth.guitar_fx import GuitarFxConfig, generate

    cfg = GuitarFxConfig(strings=(1, 6), frets=(0,), pickups=("Bridge",), effects=("Clean", "RAT", "TapeEcho"),
                         duration_s=0.6)  # long enough for the tape echo to repeat
    return generate(tmp_path / "gfx", cfg, workers=1)


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, _dl4mir_home):
    """The whole course on the quick profile, run once per test session (used by the lesson and report tests)."""
    from dl4mir.run import run_course

    out = tmp_path_factory.mktemp("runs")
    return run_course(profile="quick", out=out, run_id="q", real_guitar=_real_guitar_folder(out / "real"))[0].parent


def _real_guitar_folder(root):
    """Stand-ins for a user's real recordings, labelled by folder: a played phrase clean and with a 300 ms echo."""
    import numpy as np
    import soundfile as sf

    from dl4mir.data.synth.guitar import play

    for k in range(2):
        y, _ = play(6 - k, 3, "Neck", sr=22050, duration_s=2.5, rng=np.random.default_rng(k))
        echo = y.copy()
        echo[6615:] += 0.5 * y[:-6615]
        for label, z in (("clean", y), ("delay", echo)):
            (root / label).mkdir(parents=True, exist_ok=True)
            sf.write(str(root / label / f"take{k}.wav"), 0.5 * z / np.abs(z).max(), 22050)
    return root


def requires_shared():
    return pytest.mark.skipif(not EGFX_SAMPLE.is_dir(), reason="../shared/fixtures not present")
