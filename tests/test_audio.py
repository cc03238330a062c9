"""Audio I/O: round trips, resampling physics, and a corpus of broken files that must each raise AudioError."""
import contextlib
import os
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dl4mir import audio
from dl4mir.errors import AudioError
from conftest import EGFX_SAMPLE, requires_shared

SR = 16000


def tone(f_hz=440.0, sr=SR, dur=1.0, amp=0.5):
    t = np.arange(int(sr * dur)) / sr
    return (amp * np.sin(2 * np.pi * f_hz * t)).astype(np.float32)


def peak_hz(y, sr):
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / sr)[spec.argmax()]


def test_save_load_round_trip(tmp_path):
    y = tone()
    p = audio.save(tmp_path / "a.wav", y, sr=SR)
    z, sr = audio.load(p)
    assert sr == SR and z.dtype == np.float32 and z.shape == y.shape
    assert np.max(np.abs(z - y)) < 1e-4  # 16-bit quantization


def test_stereo_mixdown_is_the_mean(tmp_path):
    left, right = tone(440), tone(660, amp=0.2)
    p = audio.save(tmp_path / "st.wav", np.stack([left, right]), sr=SR, subtype="FLOAT")
    both, _ = audio.load(p, mono=False)
    assert both.shape == (2, SR)
    mono, _ = audio.load(p)
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-6)


def test_resample_keeps_pitch_and_duration(tmp_path):
    p = audio.save(tmp_path / "t.wav", tone(1000, sr=44100), sr=44100, subtype="FLOAT")
    y, sr = audio.load(p, sr=16000)
    assert sr == 16000 and abs(len(y) - 16000) <= 1
    assert abs(peak_hz(y, sr) - 1000) < 2


def test_resample_batch_axes():
    y = np.stack([tone(500), tone(700)])
    out = audio.resample(y, orig_sr=SR, target_sr=8000)
    assert out.shape == (2, 8000)
    assert abs(peak_hz(out[1], 8000) - 700) < 2


def test_fit_to_length_and_offsets(tmp_path):
    y = np.arange(10, dtype=np.float32)
    assert audio.fit_to_length(y, length=4).tolist() == [0, 1, 2, 3]
    assert audio.fit_to_length(y, length=4, align="center").tolist() == [3, 4, 5, 6]
    assert audio.fit_to_length(y, length=12).tolist()[-2:] == [0, 0]
    assert audio.fit_to_length(np.ones((2, 3)), duration_s=0.5, sr=10).shape == (2, 5)
    p = audio.save(tmp_path / "t.wav", tone(dur=2.0), sr=SR)
    part, _ = audio.load(p, offset_s=0.5, duration_s=0.25)
    assert len(part) == 4000
    with pytest.raises(AudioError, match="outside"):
        audio.load(p, offset_s=3.0)


def test_standardize_as_the_course_does():
    y = tone() + 0.3
    z = audio.standardize(y)
    assert abs(z.mean()) < 1e-3 and np.isclose(np.abs(z).max(), 1.0)
    assert np.allclose(audio.standardize(np.zeros(10)), 0)
    zs = audio.standardize(y, method="zscore")
    assert abs(zs.std() - 1) < 1e-4
    with pytest.raises(ValueError):
        audio.standardize(y, method="nope")


def test_save_refuses_bad_arrays(tmp_path):
    with pytest.raises(AudioError, match="non-finite"):
        audio.save(tmp_path / "n.wav", np.array([0.0, np.nan]), sr=SR)
    with pytest.raises(AudioError, match="full scale"):
        audio.save(tmp_path / "c.wav", np.array([0.0, 1.5]), sr=SR)
    with pytest.raises(AudioError, match="sample rate"):
        audio.save(tmp_path / "z.wav", np.zeros(10), sr=0)
    assert not list(tmp_path.iterdir())  # nothing half-written


# ---------------------------------------------------------------- the bad-audio corpus
def _good_wav(path, channels=1):
    y = np.tile(tone(dur=0.5), (channels, 1))
    sf.write(str(path), y.T, SR, subtype="PCM_16")
    return path.read_bytes()


def make_bad(kind, tmp_path):
    p = tmp_path / f"{kind}.wav"
    if kind == "zero_bytes":
        p.write_bytes(b"")
    elif kind == "random_bytes":
        p.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif kind == "header_only":
        p.write_bytes(_good_wav(p)[:44])
    elif kind == "truncated":
        p.write_bytes(_good_wav(p)[:3000])
    elif kind == "nan_samples":
        y = tone(dur=0.5)
        y[100] = np.nan
        sf.write(str(p), y, SR, subtype="FLOAT")
    elif kind == "inf_samples":
        y = tone(dur=0.5)
        y[7] = np.inf
        sf.write(str(p), y, SR, subtype="FLOAT")
    elif kind == "sample_rate_zero":
        b = bytearray(_good_wav(p))
        b[24:28] = struct.pack("<I", 0)
        p.write_bytes(bytes(b))
    elif kind == "directory":
        p.mkdir()
    elif kind == "too_many_channels":
        _good_wav(p, channels=6)
    elif kind == "missing":
        pass
    elif kind == "no_data_chunk":
        b = _good_wav(p)
        p.write_bytes(b[:36])
    return p


BAD = {
    "zero_bytes": "empty file",
    "random_bytes": "unreadable",
    "header_only": "header-only",
    "truncated": "truncated",
    "nan_samples": "non-finite",
    "inf_samples": "non-finite",
    "sample_rate_zero": "sample rate is 0",
    "directory": "directory",
    "too_many_channels": "6 channels",
    "missing": "not found",
    "no_data_chunk": "no data chunk",
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_audio_raises_naming_file_and_cause(kind, tmp_path):
    p = make_bad(kind, tmp_path)
    with pytest.raises(AudioError) as err:
        audio.load(p)
    assert str(p) in str(err.value)
    assert BAD[kind] in err.value.cause
    assert err.value.path == str(p)


def test_truncated_reports_promised_and_present_frames(tmp_path):
    p = make_bad("truncated", tmp_path)
    with pytest.raises(AudioError, match=r"promises 8000 frames but only \d+ are present"):
        audio.info(p)


def test_channel_limit_is_adjustable(tmp_path):
    p = make_bad("too_many_channels", tmp_path)
    y, _ = audio.load(p, max_channels=6, mono=False)
    assert y.shape[0] == 6


def test_load_many_reports_every_failure_at_the_end(tmp_path):
    good = [audio.save(tmp_path / f"g{i}.wav", tone(), sr=SR) for i in range(3)]
    bad = [make_bad(k, tmp_path) for k in ("truncated", "zero_bytes", "nan_samples")]
    res = audio.load_many([good[0], bad[0], good[1], bad[1], bad[2], good[2]])
    assert len(res.ok) == 3 and len(res.failures) == 3
    summary = res.summary()
    assert "3 succeeded, 3 failed" in summary
    for b in bad:
        assert str(b) in summary
    with pytest.raises(AudioError, match="3 file"):
        res.raise_if_failed()


@requires_shared()
def test_real_egfxset_recording_loads():
    y, sr = audio.load(EGFX_SAMPLE / "TapeEcho" / "Bridge" / "2-0.wav")
    assert sr == 48000 and y.ndim == 1 and abs(len(y) / sr - 1.0) < 0.01
    assert 0.01 < np.abs(y).max() <= 1.0
    y16, sr16 = audio.load(EGFX_SAMPLE / "TapeEcho" / "Bridge" / "2-0.wav", sr=16000)
    assert sr16 == 16000 and abs(len(y16) - len(y) / 3) <= 1


# ---------------------------------------------------------------- what predict warns about
def _note(sr=16000, seconds=1.0, amp=0.3):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * 220 * t) * np.exp(-2 * t)).astype(np.float32)


def test_input_warnings_name_silence_quiet_clipping_and_short_input():
    from dl4mir.train.predict import input_warnings

    sr = 16000
    assert input_warnings(_note(sr), sr, window_s=1.0) == []
    assert input_warnings(np.zeros(sr, np.float32), sr, window_s=1.0)[0].startswith("silent")
    assert input_warnings(_note(sr, amp=10 ** (-75 / 20)), sr, window_s=1.0)[0].startswith("near-silent")
    clipped = np.clip(4 * _note(sr), -1, 1)
    assert any(w.startswith("clipped") for w in input_warnings(clipped, sr, window_s=1.0))
    assert any("much shorter" in w for w in input_warnings(_note(sr, seconds=0.1), sr, window_s=1.0))


def test_windows_cover_every_sample():
    from dl4mir.train.predict import window_starts

    assert window_starts(100, window=200, hop=50) == [0]
    starts = window_starts(1000, window=300, hop=250)
    assert starts == [0, 250, 500, 700] and starts[-1] + 300 == 1000
    assert window_starts(1000, window=500, hop=250) == [0, 250, 500]


# ---------------------------------------------------------------- every container's length, OS errors, rates
def _tone(n=16000):
    return (0.3 * np.sin(np.arange(n) / 10)).astype(np.float32)


@pytest.mark.parametrize("fmt,subtype,ext", [("WAV", "PCM_16", "wav"), ("AIFF", "PCM_16", "aiff"),
                                             ("AIFF", "PCM_24", "aif"), ("W64", "PCM_16", "w64"),
                                             ("RF64", "PCM_16", "rf64"), ("AU", "PCM_16", "au"),
                                             ("AU", "FLOAT", "au"), ("FLAC", "PCM_16", "flac"),
                                             ("CAF", "PCM_16", "caf"), ("OGG", "VORBIS", "ogg")])
def test_a_cut_file_of_any_container_is_refused(fmt, subtype, ext, tmp_path):
    whole, cut = tmp_path / f"whole.{ext}", tmp_path / f"cut.{ext}"
    sf.write(str(whole), _tone(), 16000, format=fmt, subtype=subtype)
    y, _ = audio.load(whole)
    assert len(y) == 16000
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(AudioError, match="truncated|could not decode|unreadable as audio") as err:
        audio.load(cut)
    assert str(cut) in str(err.value)
    if fmt not in ("FLAC", "CAF", "OGG"):  # these declare no fixed byte length; their decoders fail instead
        assert "header promises 16000 frames" in str(err.value)


def test_implausible_sample_rates_are_refused_before_any_allocation(tmp_path):
    path = tmp_path / "one_hertz.wav"
    sf.write(str(path), _tone(8000), 8000)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<II", raw, 24, 1, 2)  # fmt chunk: 1 Hz, 2 bytes per second
    path.write_bytes(bytes(raw))
    with pytest.raises(AudioError, match=r"implausible sample rate 1 Hz"):
        audio.load(path, sr=16000)
    assert audio.MIN_SAMPLE_RATE == 1000 and audio.MAX_SAMPLE_RATE == 768_000


def test_os_level_oddities_are_audio_errors(tmp_path):
    import os

    (tmp_path / "loop.wav").symlink_to(tmp_path / "loop.wav")
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "nowhere.wav")
    os.mkfifo(tmp_path / "fifo.wav")  # opening it would block forever
    for name, cause in (("loop.wav", "symlink loop"), ("dangling.wav", "dangling symlink"),
                        ("fifo.wav", "not a regular file"), (".", "is a directory")):
        with pytest.raises(AudioError, match=cause):
            audio.load(tmp_path / name)


@contextlib.contextmanager
def _unprivileged():
    """Act as a non-root user: as 'nobody' (effective ids, restored after) when the tests run as root."""
    if os.geteuid() != 0:
        yield
        return
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no 'nobody' user to act as")
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_a_file_the_user_cannot_read_is_an_audio_error_and_the_batch_goes_on():
    folder = Path(tempfile.mkdtemp(prefix="dl4mir-perm-"))
    os.chmod(folder, 0o777)  # the unprivileged user may enter
    for name, mode in (("good.wav", 0o644), ("secret.wav", 0o000)):
        sf.write(str(folder / name), _tone(), 16000)
        os.chmod(folder / name, mode)
    with _unprivileged():
        with pytest.raises(AudioError, match="permission denied"):
            audio.load(folder / "secret.wav")
        result = audio.load_many([folder / "secret.wav", folder / "good.wav"])
    assert list(result.ok) == [str(folder / "good.wav")]
    assert result.failures[0][0] == str(folder / "secret.wav") and "permission denied" in result.failures[0][1]
    shutil.rmtree(folder)
