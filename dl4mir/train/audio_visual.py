"""Using and scoring the audio-visual models (lesson "audio-visual", ``dl4mir separate`` / ``localize``).

* **Separation** of held-out mixtures of N solo videos (Sound of Pixels' protocol): BSS-eval SDR / SIR / SAR of
  the model's estimates, of an NMF baseline and of the ideal ratio mask (the upper bound of any mask on this STFT).
* **Localization**: a map of where the sound comes from (Sound of Pixels' per-pixel energy), scored with cIoU and
  AUC against the sounding objects' masks, with and without a motion cue (FlowGrad: optical flow weighting the map).
* **Polyphonic recognition**: the multi-label CNN against a one-vs-rest logistic regression on MFCC statistics.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.fft import dct
from sklearn.cluster import KMeans
from sklearn.decomposition import NMF
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dl4mir.audio import fit_to_length, load
from dl4mir.features.nn import MFCC
from dl4mir.features.spectral import mel_filterbank
from dl4mir.metrics import bss_eval, ciou, localization_report, multilabel_report, separation_report
from dl4mir.train.scenes import SceneSet, draw_mixture, pick_frames
from dl4mir.video import read_video

# -- separation -----------------------------------------------------------------------------------------------------


def mixtures_of(scenes: SceneSet, split: str, *, n: int, count: int, seed: int = 0) -> list[list[int]]:
    """``count`` fixed mixtures of ``n`` solos of different instruments from one split."""
    rng = np.random.default_rng([seed, n, 97])
    return [draw_mixture(rng, scenes.split[split], scenes.instruments, n) for _ in range(count)]


@torch.no_grad()
def ideal_ratio_mask(model, sources: np.ndarray) -> np.ndarray:
    """Each source's estimate through its ideal ratio mask ``|S_n| / Σ|S_m|`` on the mixture (oracle), on the
    model's own STFT, so the ceiling is the one the model's masks are bounded by."""
    S = model.stft(torch.from_numpy(sources))  # (N, F, T)
    mask = S.abs() / S.abs().sum(dim=0, keepdim=True).clamp_min(1e-8)
    return model.istft(mask * S.sum(dim=0, keepdim=True), sources.shape[-1]).numpy()


@torch.no_grad()
def nmf_separate(model, mix: np.ndarray, references: np.ndarray, *, n_components: int = 16,
                 seed: int = 0) -> np.ndarray:
    """NMF-MFCC (Spiertz & Gnann 2009), Sound of Pixels' audio-only baseline, on the model's STFT: KL-NMF of the
    mixture's magnitude, components clustered into N sources by the MFCCs of their spectra (k-means), each source
    a soft mask.  Which cluster is which source is unknown to NMF: the permutation closest to the references'
    spectrograms is taken (an oracle assignment, in NMF's favour)."""
    cfg = model.cfg
    X = model.stft(torch.from_numpy(mix))  # (F, T)
    V = X.abs().numpy().astype(np.float64) + 1e-9
    nmf = NMF(n_components=n_components, beta_loss="kullback-leibler", solver="mu", init="nndsvda", max_iter=200,
              random_state=seed)
    W = nmf.fit_transform(V)  # (F, K)
    H = nmf.components_  # (K, T)
    fb = mel_filterbank(sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=40)
    mfcc = dct(np.log(fb @ W + 1e-9), axis=0, norm="ortho")[1:13].T  # (K, 12): spectral shape, not level
    N = len(references)
    labels = KMeans(n_clusters=N, n_init=4, random_state=seed).fit_predict(mfcc)
    parts = np.stack([W[:, labels == c] @ H[labels == c] for c in range(N)])  # (N, F, T)
    masks = parts / parts.sum(axis=0, keepdims=True).clip(1e-12)
    ref_mag = model.stft(torch.from_numpy(references)).abs().numpy()
    best = max(itertools.permutations(range(N)),
               key=lambda p: sum(np.corrcoef(masks[p[i]].ravel() * V.ravel(), ref_mag[i].ravel())[0, 1]
                                 for i in range(N)))
    est = torch.as_tensor(masks[list(best)], dtype=torch.float32) * X
    return model.istft(est, mix.shape[-1]).numpy()


def separation_scores(model, scenes: SceneSet, groups: list[list[int]], *, nmf_count: int | None = None) -> dict:
    """SDR / SIR / SAR of the model, NMF-MFCC (on the first ``nmf_count`` mixtures: it is slow) and the ideal
    ratio mask on mixtures ``groups`` (rows of ``scenes``), and each mixture's mean model SDR."""
    out = {"model": [], "irm": [], "nmf": []}
    for i, g in enumerate(groups):
        src = scenes.audio[g]
        mix = src.sum(axis=0)
        est = model.separate(torch.from_numpy(scenes.frames[g])[None], torch.from_numpy(mix)[None])[0].numpy()
        out["model"].append(bss_eval(src, est))
        out["irm"].append(bss_eval(src, ideal_ratio_mask(model, src)))
        if nmf_count is None or i < nmf_count:
            out["nmf"].append(bss_eval(src, nmf_separate(model, mix, src)))
    report = {name: separation_report(v) for name, v in out.items() if v}
    report["per_mixture_sdr"] = [float(np.mean(s["sdr"])) for s in out["model"]]
    return report


# -- localization -------------------------------------------------------------------------------------------------

def motion_map(frames: np.ndarray) -> np.ndarray:
    """Mean optical-flow magnitude per pixel over a video (Farnebäck, OpenCV), blurred a little and scaled to
    [0, 1]: where things move.  ``frames`` uint8 ``(T, H, W, 3)`` → ``(H, W)``."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    mag = np.zeros(grey[0].shape, np.float64)
    for a, b in zip(grey[:-1], grey[1:]):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=2, winsize=9, iterations=3,
                                            poly_n=5, poly_sigma=1.1, flags=0)
        mag += np.hypot(flow[..., 0], flow[..., 1])
    mag = cv2.GaussianBlur(mag / max(len(grey) - 1, 1), (0, 0), sigmaX=3)
    return mag / mag.max() if mag.max() > 0 else mag


def sound_map(model, frames: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Where a clip's sound comes from, ``(H, W)`` at the video's size: Sound of Pixels' per-pixel share of the
    sound, or the correspondence model's similarity of the sound to each place.  ``frames``: the whole video
    ``(T, H, W, 3)``; ``audio``: its sound at the model's rate."""
    cfg = model.cfg
    picked = torch.from_numpy(pick_frames(frames, cfg.n_frames_in, cfg.frame_size))[None]
    y = torch.as_tensor(audio, dtype=torch.float32)[None]
    grid = model.pixel_energy(picked, y) if hasattr(model, "pixel_energy") else model.similarity_map(picked, y)
    return cv2.resize(grid[0].numpy().astype(np.float32), frames.shape[2:0:-1], interpolation=cv2.INTER_LINEAR)


def with_motion(heat: np.ndarray, motion: np.ndarray, *, floor: float = 0.1) -> np.ndarray:
    """FlowGrad's idea as a weighting: the sound map times how much each place moves (``floor`` keeps a still
    sounding object from vanishing entirely)."""
    h = (heat - heat.min()) / max(heat.max() - heat.min(), 1e-12)
    return h * (floor + (1 - floor) * motion)


def refine_map(heat: np.ndarray, frame: np.ndarray, *, seed: float = 0.5, background: float = 0.2,
               iterations: int = 3) -> np.ndarray:
    """A map snapped to the objects in ``frame`` (uint8 ``(H, W, 3)``) by GrabCut (OpenCV): the places where the
    min-max scaled map is at least ``seed`` start as probable foreground, below ``background`` as sure background,
    the rest as probable background; colour models of the two then decide every pixel.  Returns the foreground
    with the map's values (``0.5 + 0.5·map``, 0 elsewhere), so thresholding at half its range keeps exactly the
    segment.  No labels: the map says *which* object, the image says *where its edges are* (the refinement of
    weakly supervised localization, e.g. Khoreva et al. 2017).  A map with no clear peak comes back min-max scaled,
    unsegmented."""
    h = (heat - heat.min()) / max(heat.max() - heat.min(), 1e-12)
    mask = np.full(h.shape, cv2.GC_PR_BGD, np.uint8)
    mask[h >= seed] = cv2.GC_PR_FGD
    mask[h < background] = cv2.GC_BGD
    if not (mask == cv2.GC_PR_FGD).any() or not (mask == cv2.GC_BGD).any():
        return h
    cv2.setRNGSeed(0)  # GrabCut's colour models start from k-means: the same map and frame give the same segment
    models = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.grabCut(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR), mask, None, *models, iterations,
                cv2.GC_INIT_WITH_MASK)
    foreground = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return foreground * (0.5 + 0.5 * h) if foreground.any() else h


def scene_kind(clip) -> str:
    d = clip.labels.get("distractor")
    if not d:
        return "no distractor"
    if d.get("mimes"):
        return "miming silent distractor"  # moves as a player does, to a melody nobody hears
    if d["moves"]:
        return "moving silent distractor"
    return "still distractor, same instrument" if d["same_instrument"] else "still distractor, other instrument"


def sounding_boxes(scene: dict, t: int) -> np.ndarray:
    """The union of the sounding objects' bounding boxes in frame ``t``, ``(H, W)`` bool (what Senocak et al.
    annotate on real videos)."""
    truth = np.zeros(scene["masks"].shape[-2:], bool)
    for (x0, y0, x1, y1), playing in zip(scene["boxes"][t], scene["playing"]):
        if playing:
            truth[y0:y1, x0:x1] = True
    return truth


def sounding_masks(scene: dict, t: int) -> np.ndarray:
    """The union of the sounding objects' pixels in frame ``t``, ``(H, W)`` bool: the ground truth cIoU is scored
    on.  The synthetic sprites are thin (a flute, a clarinet: a quarter of their box on average), so against boxes
    even a perfect map of the sounding pixels scores low, while a blur that fills the box scores high."""
    return (scene["masks"][t] & np.asarray(scene["playing"], bool)[:, None, None]).any(axis=0)


def perfect_map(truth: np.ndarray, *, cell_px: int = 8) -> np.ndarray:
    """What a perfect localizer on a grid of ``cell_px`` cells can draw: each cell the share of its pixels in
    ``truth``, upsampled to the frame as the models' maps are (:func:`sound_map`): the ceiling of cIoU here."""
    h, w = truth.shape
    grid = cv2.resize(truth.astype(np.float32), (w // cell_px, h // cell_px), interpolation=cv2.INTER_AREA)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_LINEAR)


def _report(rows: list[dict], keys: dict) -> dict:
    """``{"all": {label: localization_report}, kind: {…}}`` over ``rows`` (each with its scene ``"kind"``), for each
    ``{label: row key}``."""
    def one(sel):
        return {label: localization_report([r[key] for r in sel]) for label, key in keys.items()}
    kinds = sorted({r["kind"] for r in rows})
    return {"all": one(rows), **{k: one([r for r in rows if r["kind"] == k]) for k in kinds}}


MAP_KEYS = {"sound": "ciou", "sound+motion": "ciou_motion", "sound, refined": "ciou_refined",
            "sound+motion, refined": "ciou_motion_refined", "sound, boxes": "ciou_box",
            "sound+motion, boxes": "ciou_box_motion"}


def localization_scores(model, scenes_read: list[tuple[object, dict]]) -> dict:
    """cIoU of the sound map with and without motion, each also refined by :func:`refine_map`, per scene, against
    the sounding objects' pixels (and, as Senocak et al. score real videos, their boxes) in the middle frame; a
    report per kind of scene and over all.
    ``scenes_read``: ``(clip, read_scene(clip) with "motion": motion_map(frames))`` pairs."""
    rows = []
    for clip, s in scenes_read:
        heat = sound_map(model, s["frames"], s["audio"])
        moved = with_motion(heat, s["motion"])
        t = len(s["frames"]) // 2
        masks, boxes, frame = sounding_masks(s, t), sounding_boxes(s, t), s["frames"][t]
        rows.append({"clip": clip.clip_id, "kind": scene_kind(clip), "ciou": ciou(heat, masks),
                     "ciou_motion": ciou(moved, masks), "ciou_refined": ciou(refine_map(heat, frame), masks),
                     "ciou_motion_refined": ciou(refine_map(moved, frame), masks), "ciou_box": ciou(heat, boxes),
                     "ciou_box_motion": ciou(moved, boxes)})
    return {**_report(rows, MAP_KEYS), "per_scene": rows}


def localization_references(scenes_read: list[tuple[object, dict]], *, cell_px: int = 8) -> dict:
    """Maps no model draws, scored as :func:`localization_scores` scores the models': the perfect map on the
    models' grid (the ceiling), and the motion map alone (FlowGrad's cue without any sound), also refined by
    :func:`refine_map` — what a sound-blind pipeline gets, which a model's map must beat to show it hears where;
    over all scenes and per kind of scene."""
    rows = []
    for clip, s in scenes_read:
        t = len(s["frames"]) // 2
        masks, boxes = sounding_masks(s, t), sounding_boxes(s, t)
        perfect = perfect_map(masks, cell_px=cell_px)
        rows.append({"kind": scene_kind(clip), "perfect": ciou(perfect, masks), "perfect_box": ciou(perfect, boxes),
                     "motion": ciou(s["motion"], masks), "motion_box": ciou(s["motion"], boxes),
                     "motion_refined": ciou(refine_map(s["motion"], s["frames"][t]), masks)})
    return _report(rows, {f"perfect map on the {cell_px}-px grid": "perfect",
                          f"perfect map on the {cell_px}-px grid, boxes": "perfect_box",
                          "motion alone": "motion", "motion alone, refined": "motion_refined",
                          "motion alone, boxes": "motion_box"})


# -- polyphonic recognition ---------------------------------------------------------------------------------------

TEST_MIXTURES = 200  # held-out mixtures the recognizers are scored on


def mixture_batches(data, split: str, *, n_train: int | None = None, seed: int = 0):
    """``(x, y)``: :data:`TEST_MIXTURES` fixed mixtures of a held-out split, or ``n_train`` training mixtures
    drawn from ``seed`` (whole clips, not the training crops)."""
    if split == "train":
        rows = np.arange(n_train) % data.n_train
        x, y = data.mix([data.members(int(r), (seed, 0, i)) for i, r in enumerate(rows)],
                        [(int(r), seed, i) for i, r in enumerate(rows)])
        return torch.from_numpy(x), torch.from_numpy(y)
    return data.fixed(split, TEST_MIXTURES)


def mfcc_statistics(x: torch.Tensor, *, sr: int) -> np.ndarray:
    """Mean and standard deviation over time of 20 MFCCs, ``(B, 40)``: the classic clip-level features."""
    m = MFCC(sr=sr, n_mfcc=20, n_mels=64, n_fft=1024, hop_length=256)(x)  # (B, 20, frames)
    return torch.cat([m.mean(dim=-1), m.std(dim=-1)], dim=1).numpy()


def mfcc_logistic_baseline(data, *, n_train: int = 2000, seed: int = 0) -> dict:
    """One logistic regression per instrument on MFCC statistics of ``n_train`` training mixtures, scored on the
    test mixtures like the CNN."""
    sr = data.scenes.sr
    x_tr, y_tr = mixture_batches(data, "train", n_train=n_train, seed=seed)
    x_te, y_te = mixture_batches(data, "test")
    clf = make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000, C=1.0)))
    clf.fit(mfcc_statistics(x_tr, sr=sr), y_tr.numpy().astype(int))
    return multilabel_report(y_te.numpy(), clf.predict_proba(mfcc_statistics(x_te, sr=sr)), data.scenes.classes)


@torch.no_grad()
def recognize(model, data, split: str = "test") -> dict:
    x, y = mixture_batches(data, split)
    model.eval()
    p = torch.cat([torch.sigmoid(model(x[i:i + 50])) for i in range(0, len(x), 50)])
    return multilabel_report(y.numpy(), p.numpy(), data.scenes.classes)


# -- one video (dl4mir separate / localize) ------------------------------------------------------------------------

def read_video_and_sound(model, path, *, audio_path=None) -> tuple[np.ndarray, np.ndarray]:
    """A video's frames ``(T, H, W, 3)`` and its sound at the model's rate, cut or padded to the model's length:
    from ``audio_path`` when given, else a WAV of the same name beside the video (as ``av-scenes`` and the music
    layout keep it), else the video's own sound track."""
    frames, _ = read_video(path)
    beside = Path(path).with_suffix(".wav")
    y, _ = load(audio_path or (beside if beside.is_file() else path), sr=model.cfg.sample_rate)
    return frames, fit_to_length(y, length=model.cfg.n_samples)


def peaks(grid: np.ndarray, *, max_peaks: int, threshold: float, radius: int = 3) -> list[tuple[int, int]]:
    """Up to ``max_peaks`` local maxima ``(row, col)`` of a map, each at least ``threshold`` × the highest and
    more than ``radius`` cells from a stronger one."""
    g = grid.astype(np.float64).copy()
    top, out = g.max(), []
    while len(out) < max_peaks:
        r, c = np.unravel_index(np.argmax(g), g.shape)
        if not np.isfinite(g[r, c]) or g[r, c] < threshold * top:
            break
        out.append((int(r), int(c)))
        g[max(r - radius, 0):r + radius + 1, max(c - radius, 0):c + radius + 1] = -np.inf
    return out


@torch.no_grad()
def separate_video(model, path, *, audio_path=None, max_sources: int = 2, threshold: float = 0.5) -> dict:
    """Sound of Pixels on one video: the places its map says sound comes from (up to ``max_sources``), and each
    place's sound separated with that place's visual features.  Returns ``{"sources": (N, n), "places": [(x, y)
    pixels], "map": (H, W), "frames", "sr"}``."""
    frames, y = read_video_and_sound(model, path, audio_path=audio_path)
    cfg = model.cfg
    picked = torch.from_numpy(pick_frames(frames, cfg.n_frames_in, cfg.frame_size))[None]
    mix = torch.as_tensor(y, dtype=torch.float32)[None]
    grid = model.pixel_energy(picked, mix)[0].numpy()
    v = model.visual_features(picked)[0]  # (k, h, w)
    found = peaks(grid, max_peaks=max_sources, threshold=threshold)
    vecs = torch.stack([v[:, max(r - 1, 0):r + 2, max(c - 1, 0):c + 2].amax(dim=(1, 2)) for r, c in found])
    sources = model.separate_with(vecs[None], mix)[0].numpy()
    scale = (frames.shape[2] / grid.shape[1], frames.shape[1] / grid.shape[0])
    places = [(int((c + 0.5) * scale[0]), int((r + 0.5) * scale[1])) for r, c in found]
    return {"sources": sources, "places": places, "map": sound_map(model, frames, y), "frames": frames,
            "sr": cfg.sample_rate}


def localize_video(model, path, *, audio_path=None, motion: bool = False, refine: bool = False) -> dict:
    """Where a video's sound comes from: ``{"map": (H, W) in [0, 1], "peak": (x, y), "frames"}``, weighted by the
    video's motion when ``motion``, snapped to the object in the middle frame by :func:`refine_map` when
    ``refine``."""
    frames, y = read_video_and_sound(model, path, audio_path=audio_path)
    heat = sound_map(model, frames, y)
    heat = with_motion(heat, motion_map(frames)) if motion else heat
    heat = refine_map(heat, frames[len(frames) // 2]) if refine else heat
    heat = (heat - heat.min()) / max(heat.max() - heat.min(), 1e-12)
    r, c = np.unravel_index(np.argmax(heat), heat.shape)
    return {"map": heat, "peak": (int(c), int(r)), "frames": frames}


def strip_rows(frames: np.ndarray, maps: dict, *, n: int = 4, label: str = "") -> list[dict]:
    """``n`` frames spread over a video, each with ``maps`` over it, for :func:`plots.heatmap_overlays`."""
    idx = np.linspace(0, len(frames) - 1, n).astype(int)
    return [{"frame": frames[i], "maps": maps, "label": f"{label} frame {i}"} for i in idx]
