"""Resynthesis from pitch and loudness (DDX7, DDSP's harmonic-plus-noise decoder): play a recording's own f0 and
loudness curves through a trained decoder, and measure what came out.

* :func:`analyse` + :func:`render_curves` — any audio → its curves → the decoder's rendering (whole, or block by
  block as live);
* :func:`evaluate_decoder` — held-out files: multi-resolution STFT distance to the original, loudness error (dB)
  and f0 error (cents, the rendering re-analysed with the same f0 tracker), as the DDX7 paper reports;
* :func:`realtime_factor` — compute time / audio time of decoder + synth, for whole clips and for streaming in
  blocks (the DDX7 paper's 32 ms and 256 ms), on the CPU threads torch has.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from dl4mir.errors import ParameterError
from dl4mir.features import control
from dl4mir.metrics import loudness_error_db, multi_resolution_stft_distance, pitch_accuracy
from dl4mir.models.control_decoder import ControlDecoder
from dl4mir.train.data import ControlCrops, Performance, note_controls


def analyse(model: ControlDecoder, y: np.ndarray, *, sr: int) -> Performance:
    """``y`` as ``model`` reads it (:class:`~dl4mir.train.data.Performance`): its curves tracked as in training."""
    if sr != model.cfg.sample_rate:
        raise ParameterError(f"audio at {sr} Hz; the model plays at {model.cfg.sample_rate} Hz: resample it first")
    performance = note_controls(y, sr=sr, hop=model.hop, f0_method=model.cfg.f0_method)
    if performance is None:
        raise ParameterError(f"{model.cfg.f0_method} finds no pitch in this audio: a pitch-and-loudness decoder has "
                             "nothing to play")
    return performance


@torch.no_grad()
def render_curves(model: ControlDecoder, curves: np.ndarray, *, block_frames: int | None = None) -> np.ndarray:
    """``(2, frames)`` curves → ``(frames · hop,)`` audio, whole or ``block_frames`` at a time (streaming)."""
    weight = next(model.parameters())
    c = torch.as_tensor(curves)[None].to(device=weight.device, dtype=weight.dtype)
    if block_frames is None:
        return model.eval().render(c)[0].cpu().numpy()
    model.eval().set_streaming(True)
    try:
        out = [model.render(c[..., i:i + block_frames]) for i in range(0, c.shape[-1], block_frames)]
    finally:
        model.set_streaming(False)
    return torch.cat(out, dim=-1)[0].cpu().numpy()


def resynthesis_scores(model: ControlDecoder, performance: Performance, audio: np.ndarray) -> dict:
    """The DDX7 paper's three numbers for one recording and its rendering: MR-STFT distance, loudness error (dB)
    and f0 error (cents: the rendering re-tracked with the model's f0 tracker, over the frames pitched in both)."""
    sr, hop = model.cfg.sample_rate, model.hop
    y, curves = performance.audio, performance.curves
    f0, voiced = control.f0_track(y=audio, sr=sr, frame_rate_hz=sr / hop, method=model.cfg.f0_method)
    both = voiced & performance.voiced
    pitch = pitch_accuracy(curves[0][both], f0[both]) if both.any() else {"mean_abs_cents": float("nan"), "rpa": 0.0}
    return {"mrstft": multi_resolution_stft_distance(y[None], audio[None], sr=sr),
            "loudness_error_db": loudness_error_db(curves[1], control.loudness_db(y=audio, sr=sr, frame_rate_hz=sr / hop)),
            "f0_error_cents": pitch["mean_abs_cents"], "f0_rpa": pitch["rpa"],
            "voiced_share": float(both.sum() / max(performance.voiced.sum(), 1))}


def evaluate_decoder(model: ControlDecoder, data: ControlCrops, *, split: str = "test",
                     max_files: int | None = None) -> dict:
    """Each held-out file of ``split`` (whole, from its own curves) scored by :func:`resynthesis_scores`; means,
    the number of files, and the model's parameter count."""
    files = [int(f) for f in data.file_split[split]][:max_files]
    if not files:
        raise ParameterError(f"no {split} files to evaluate on")
    rows = []
    for f in files:
        performance = data.performance(f)
        rows.append(resynthesis_scores(model, performance, render_curves(model, performance.curves)))
    out = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
    return {**out, "n": len(rows), "parameters": sum(p.numel() for p in model.parameters())}


@torch.no_grad()
def realtime_factor(model: ControlDecoder, *, seconds: float = 4.0, block_ms: float | None = None,
                    batch: int = 1, repeats: int = 3) -> float:
    """Compute time / audio time of rendering ``batch`` notes of ``seconds`` (a gliding A3 at a swelling
    loudness) whole, or streamed in blocks of ``block_ms``; the best of ``repeats`` (timing noise only adds)."""
    sr, hop = model.cfg.sample_rate, model.hop
    frames = int(round(seconds * sr / hop))
    t = torch.linspace(0, 1, frames)
    curves = torch.stack([220 * 2 ** (t / 12), -60 + 30 * torch.sin(torch.pi * t)])[None].expand(batch, -1, -1)
    curves = curves.to(next(model.parameters()).device)
    block = None if block_ms is None else max(1, int(round(block_ms / 1000 * sr / hop)))
    model.eval()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        if block is None:
            model.render(curves)
        else:
            model.set_streaming(True)
            for i in range(0, frames, block):
                model.render(curves[..., i:i + block])
            model.set_streaming(False)
        if curves.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best / (seconds * batch)
