"""Video in and out (PyAV, which ships its own FFmpeg): frames as ``uint8 (T, H, W, 3)`` RGB arrays, and the
audio track of a video as float32, for the audio-visual lessons and for real MUSIC-style folders of videos.

As in :mod:`dl4mir.audio`, nothing wrong is returned as if it were fine: a missing, empty, corrupt or truncated file
raises :class:`~dl4mir.errors.VideoError` (or :class:`~dl4mir.errors.AudioError` for its audio track) naming the file
and the cause.  Files are written with the index at the front (``faststart``), so a cut file is detected as fewer
decoded frames than its header promises.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dl4mir.errors import AudioError, VideoError

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi")


def is_video(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(VIDEO_EXTENSIONS)


def _open(path: Path, error=VideoError):
    import av

    if not path.exists():
        raise error(path, "file not found")
    if path.is_dir():
        raise error(path, "is a directory, not a video file")
    if path.stat().st_size == 0:
        raise error(path, "empty file (0 bytes)")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise error(path, f"unreadable as video ({exc.__class__.__name__}: {getattr(exc, 'strerror', '') or exc})"
                    ) from None


def write_video(path: str | os.PathLike, frames: np.ndarray, *, fps: float, audio: np.ndarray | None = None,
                sr: int | None = None, crf: int = 18) -> Path:
    """Write ``frames`` (``uint8 (T, H, W, 3)``, even H and W) as H.264 MP4, with ``audio`` (mono float in
    [-1, 1] at ``sr``) as an AAC track when given; atomically (a temporary file, then a rename)."""
    import av

    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise VideoError(path, f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    if frames.shape[1] % 2 or frames.shape[2] % 2:
        raise VideoError(path, f"H.264 needs an even frame size, got {frames.shape[2]}x{frames.shape[1]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.mp4")
    try:
        with av.open(str(tmp), "w", options={"movflags": "faststart"}) as out:
            vs = out.add_stream("libx264", rate=int(round(fps)))
            vs.width, vs.height, vs.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            vs.options = {"crf": str(crf), "preset": "veryfast"}
            streams = [(vs, [av.VideoFrame.from_ndarray(f, format="rgb24") for f in frames])]
            if audio is not None:
                a = np.ascontiguousarray(np.clip(audio, -1, 1), dtype=np.float32)[None]
                as_ = out.add_stream("aac", rate=int(sr))
                as_.layout = "mono"
                af = av.AudioFrame.from_ndarray(a, format="flt", layout="mono")
                af.sample_rate = int(sr)
                streams.append((as_, [af]))
            for stream, items in streams:
                for item in items + [None]:  # None flushes the encoder
                    for packet in stream.encode(item):
                        out.mux(packet)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_video(path: str | os.PathLike, *, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """``(frames uint8 (T, H, W, 3), fps)`` of a video's first video stream."""
    import av

    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise VideoError(path, "no video stream (an audio-only file?)")
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        promised = int(stream.frames or 0)
        frames = []
        try:
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
        except av.error.FFmpegError as exc:
            raise VideoError(path, f"corrupt video data after {len(frames)} frames ({exc})") from None
    if not frames:
        raise VideoError(path, "no decodable frames (corrupt or truncated file)")
    if max_frames is None and promised and len(frames) < promised:
        raise VideoError(path, f"truncated file: the header promises {promised} frames, {len(frames)} decoded")
    if fps <= 0:
        raise VideoError(path, "no frame rate in the file")
    return np.stack(frames), fps


def load_audio_track(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """``(y float32 (channels, n), sr)`` of a video's first audio stream, as decoded (:func:`dl4mir.audio.load`
    mixes down and resamples it like any file).  Errors are :class:`~dl4mir.errors.AudioError`."""
    import av

    path = Path(path)
    with _open(path, AudioError) as container:
        if not container.streams.audio:
            raise AudioError(path, "the video has no audio track")
        stream = container.streams.audio[0]
        chunks = []
        try:
            for frame in container.decode(stream):
                a = frame.to_ndarray()
                if np.issubdtype(a.dtype, np.integer):  # integer PCM to [-1, 1]
                    a = a / float(2 ** (8 * a.dtype.itemsize - 1))
                if not frame.format.is_planar:  # interleaved (1, n * channels) to (channels, n)
                    a = a.reshape(-1, len(frame.layout.channels)).T
                chunks.append(a.astype(np.float32))
        except av.error.FFmpegError as exc:
            raise AudioError(path, f"corrupt audio data ({exc})") from None
        file_sr = int(stream.rate)
    if not chunks:
        raise AudioError(path, "the audio track decodes to no samples (corrupt or truncated)")
    y = np.concatenate(chunks, axis=1)
    if not np.isfinite(y).all():
        raise AudioError(path, "non-finite samples (NaN/Inf) in the audio track")
    return np.ascontiguousarray(y), file_sr
