"""Resynthesis from pitch and loudness (DDX7, DDSP's harmonic-plus-noise decoder): play a recording's own f0 and
loudness curves through a trained decoder, and measure what came out.

* :func:`resynthesize` — any audio → its curves → the decoder's rendering (whole, or block by block as live);
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
from dl4mir.train.data import ControlCrops, note_controls


def _curves(model: ControlDecoder, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """``y`` at the model's rate, cut to whole control frames, and its ``(2, frames)`` curves."""
    if sr != model.cfg.sample_rate:
        raise ParameterError(f"audio at {sr} Hz; the model plays at {model.cfg.sample_rate} Hz: resample it first")
    y = np.asarray(y, dtype=np.float32)
    y = np.pad(y, (0, -len(y) % model.hop))
    curves = note_controls(y, sr=sr, hop=model.hop, f0_method=model.cfg.f0_method)
    if curves is None:
        raise ParameterError(f"{model.cfg.f0_method} finds no pitch in this audio: a pitch-and-loudness decoder has "
                             "nothing to play")
    return y, curves


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


def resynthesize(model: ControlDecoder, y: np.ndarray, *, sr: int, block_frames: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(rendering, curves)``: ``y``'s f0 and loudness played by ``model`` (same length as ``y`` padded to whole
    control frames)."""
    _, curves = _curves(model, y, sr)
    return render_curves(model, curves, block_frames=block_frames), curves


def resynthesis_scores(model: ControlDecoder, y: np.ndarray, curves: np.ndarray, audio: np.ndarray) -> dict:
    """The DDX7 paper's three numbers for one file: MR-STFT distance, loudness error (dB) and f0 error (cents:
    the rendering re-tracked with the model's f0 tracker, over the frames voiced in both)."""
    sr, hop = model.cfg.sample_rate, model.hop
    f0, voiced = control.f0_track(y=audio, sr=sr, frame_rate_hz=sr / hop, method=model.cfg.f0_method)
    ref_f0, ref_voiced = control.f0_track(y=y, sr=sr, frame_rate_hz=sr / hop, method=model.cfg.f0_method)
    both = voiced & ref_voiced
    pitch = pitch_accuracy(ref_f0[both], f0[both]) if both.any() else {"mean_abs_cents": float("nan"), "rpa": 0.0}
    return {"mrstft": multi_resolution_stft_distance(y[None], audio[None], sr=sr),
            "loudness_error_db": loudness_error_db(curves[1], control.loudness_db(y=audio, sr=sr, frame_rate_hz=sr / hop)),
            "f0_error_cents": pitch["mean_abs_cents"], "f0_rpa": pitch["rpa"],
            "voiced_share": float(both.sum() / max(ref_voiced.sum(), 1))}


def evaluate_decoder(model: ControlDecoder, data: ControlCrops, *, split: str = "test",
                     max_files: int | None = None) -> dict:
    """Each held-out file of ``split`` (whole, from its own curves) scored by :func:`resynthesis_scores`; means,
    the number of files, and the model's parameter count."""
    files = [int(f) for f in data.file_split[split]][:max_files]
    if not files:
        raise ParameterError(f"no {split} files to evaluate on")
    rows = []
    for f in files:
        y, curves = data.audio[f], data.controls[f]
        rows.append(resynthesis_scores(model, y, curves, render_curves(model, curves)))
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
