"""Matplotlib figures for the lessons, written as PNG files (Agg backend, nothing shown on screen).

Each function takes the output path first and returns it; titles and labels are plain text (matplotlib does not
interpret markup in them beyond ``$…$`` math, which dataset labels are escaped out of).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _text(s) -> str:
    return str(s).replace("$", r"\$")  # dataset text is data, not math markup


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _plt().close(fig)
    return path


def image_panels(path, panels, *, title: str = "", ncols: int = 2, extent=None) -> Path:
    """``panels``: list of ``(title, 2-D array (rows = frequency/coefficient), ylabel)`` drawn as images.
    ``extent``: ``(t0_s, t1_s, f0, f1)`` puts seconds on the x axis and the rows' units (e.g. Hz) on the y axis;
    without it the axes count frames and rows."""
    plt = _plt()
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3 * nrows), squeeze=False)
    for ax, (name, img, ylabel) in zip(axes.flat, panels):
        im = ax.imshow(img, origin="lower", aspect="auto", cmap="magma", extent=extent)
        ax.set_title(_text(name))
        ax.set_ylabel(_text(ylabel))
        ax.set_xlabel("frame" if extent is None else "time (s)")
        fig.colorbar(im, ax=ax)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if title:
        fig.suptitle(_text(title))
    return _save(fig, path)


def scatter(path, X2, labels, *, title: str, xlabel: str, ylabel: str) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    labels = np.asarray([str(v) for v in labels])
    for lab in sorted(set(labels)):
        m = labels == lab
        ax.scatter(X2[m, 0], X2[m, 1], s=12, alpha=0.7, label=_text(lab))
    ax.set(title=_text(title), xlabel=_text(xlabel), ylabel=_text(ylabel))
    ax.legend(fontsize=7, markerscale=1.5, loc="best")
    return _save(fig, path)


def confusion(path, cm, labels, *, title: str) -> Path:
    plt = _plt()
    cm = np.asarray(cm)
    size = max(4, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), [_text(v) for v in labels], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), [_text(v) for v in labels], fontsize=8)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set(title=_text(title), xlabel="predicted", ylabel="true")
    return _save(fig, path)


def lines(path, series: dict, *, title: str, xlabel: str, ylabel: str, logy: bool = False,
          logx: bool = False) -> Path:
    """``series``: ``{name: (x, y)}``."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (x, y) in series.items():
        ax.plot(x, y, label=_text(name), lw=1.2, marker="o" if logx else None, ms=3)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set(title=_text(title), xlabel=_text(xlabel), ylabel=_text(ylabel))
    if len(series) > 1:
        ax.legend(fontsize=8)
    return _save(fig, path)


def points_and_curves(path, x, y, curves: dict, *, title: str, xlabel: str, ylabel: str) -> Path:
    """Data points with fitted curves ``{name: (x, y)}`` over them."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(x, y, s=12, label="data")
    for name, (cx, cy) in curves.items():
        ax.plot(cx, cy, lw=1.5, label=_text(name))
    ax.set(title=_text(title), xlabel=_text(xlabel), ylabel=_text(ylabel))
    ax.legend(fontsize=8)
    return _save(fig, path)


def calibration_pair(path, left, right) -> Path:
    """Two scatter plots side by side, each ``(x, y, xlabel, ylabel)`` with the line of slope 1 through the
    median offset: points on it are calibrated by one offset."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (x, y, xlabel, ylabel) in zip(axes, (left, right)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        ax.scatter(x, y, s=10)
        offset = float(np.median(y - x))
        ends = np.array([x.min(), x.max()])
        ax.plot(ends, ends + offset, lw=1, color="k", label="slope 1, median offset")
        ax.set(xlabel=_text(xlabel), ylabel=_text(ylabel))
        ax.legend(fontsize=8)
    return _save(fig, path)


def bars(path, names, values, *, title: str, ylabel: str, errors=None) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(names) + 2), 4))
    ax.bar(range(len(names)), values, yerr=errors, capsize=3)
    ax.set_xticks(range(len(names)), [_text(n) for n in names], rotation=45, ha="right", fontsize=8)
    ax.set(title=_text(title), ylabel=_text(ylabel))
    return _save(fig, path)


def boxes(path, groups: dict, *, title: str, ylabel: str) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(groups) + 2), 4))
    ax.boxplot(list(groups.values()))
    ax.set_xticks(range(1, len(groups) + 1), [_text(k) for k in groups], rotation=30, ha="right")
    ax.set(title=_text(title), ylabel=_text(ylabel))
    return _save(fig, path)


def decision_boundary(path, X2, y, predict_proba, *, title: str, xlabel: str, ylabel: str) -> Path:
    """Two-feature data coloured by class, with the 0.5-probability contour of ``predict_proba``."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    pad = 0.1 * (X2.max(axis=0) - X2.min(axis=0))
    gx, gy = np.meshgrid(np.linspace(X2[:, 0].min() - pad[0], X2[:, 0].max() + pad[0], 200),
                         np.linspace(X2[:, 1].min() - pad[1], X2[:, 1].max() + pad[1], 200))
    p = predict_proba(np.c_[gx.ravel(), gy.ravel()])[:, 1].reshape(gx.shape)
    ax.contourf(gx, gy, p, levels=20, cmap="coolwarm", alpha=0.3)
    ax.contour(gx, gy, p, levels=[0.5], colors="k")
    y = np.asarray([str(v) for v in y])
    for lab in sorted(set(y)):
        m = y == lab
        ax.scatter(X2[m, 0], X2[m, 1], s=14, label=_text(lab))
    ax.set(title=_text(title), xlabel=_text(xlabel), ylabel=_text(ylabel))
    ax.legend(fontsize=8)
    return _save(fig, path)


def descent_contour(path, loss_grid, b_range, w_range, trajectory, *, title: str) -> Path:
    """Gradient-descent path ``trajectory`` (rows of (b, w)) over a ½·MSE contour on the (b, w) grid."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    cs = ax.contour(b_range, w_range, loss_grid.T, levels=30, cmap="viridis")
    ax.clabel(cs, fontsize=6)
    ax.plot(trajectory[:, 0], trajectory[:, 1], "r.-", ms=3, lw=1, label="gradient descent")
    ax.plot(*trajectory[-1], "k*", ms=12, label="final")
    ax.set(title=_text(title), xlabel="intercept b (standardized units)", ylabel="slope w (standardized units)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def waveform_and_spectrum(path, y, sr, *, title: str, max_hz: float | None = None) -> Path:
    plt = _plt()
    fig, (a, b) = plt.subplots(2, 1, figsize=(7, 5))
    a.plot(np.arange(len(y)) / sr, y, lw=0.6)
    a.set(title=_text(title), xlabel="time (s)", ylabel="amplitude")
    mag = np.abs(np.fft.rfft(y))
    f = np.fft.rfftfreq(len(y), 1 / sr)
    b.plot(f, 20 * np.log10(mag / mag.max() + 1e-9), lw=0.6)
    b.set(xlabel="frequency (Hz)", ylabel="|DFT| (dB re max)", xlim=(0, max_hz or sr / 2), ylim=(-90, 3))
    return _save(fig, path)


def grouped_bars(path, groups: list[str], series: dict[str, list[float]], *, title: str, ylabel: str) -> Path:
    """One cluster of bars per group, one bar per series (e.g. methods × mixture sizes)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 1.5 * len(groups) + 2), 4))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        ax.bar(np.arange(len(groups)) + (i - (len(series) - 1) / 2) * width, values, width, label=_text(name))
    ax.set_xticks(range(len(groups)), [_text(g) for g in groups])
    ax.axhline(0, color="k", lw=0.5)
    ax.set(title=_text(title), ylabel=_text(ylabel))
    ax.legend(fontsize=8)
    return _save(fig, path)


def heatmap_overlays(path, rows: list[dict], *, title: str = "") -> Path:
    """A grid of video frames: each row ``{"frame": (H, W, 3) uint8, "maps": {name: (H, W)}, "truth": (H, W) bool,
    "label": str}`` shows the frame with the sounding objects outlined, then each map over the frame."""
    plt = _plt()
    ncols = 1 + max(len(r["maps"]) for r in rows)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(2.2 * ncols, 2.3 * len(rows)), squeeze=False)
    for ax_row, r in zip(axes, rows):
        ax_row[0].imshow(r["frame"])
        if r.get("truth") is not None:
            ax_row[0].contour(r["truth"], levels=[0.5], colors="w", linewidths=1)
        ax_row[0].set_title(_text(r["label"]), fontsize=7)
        for ax, (name, m) in zip(ax_row[1:], r["maps"].items()):
            ax.imshow(r["frame"])
            m = (m - m.min()) / max(m.max() - m.min(), 1e-12)
            ax.imshow(m, cmap="jet", alpha=0.5, vmin=0, vmax=1)
            ax.set_title(_text(name), fontsize=7)
        for ax in ax_row:
            ax.axis("off")
    if title:
        fig.suptitle(_text(title), fontsize=9)
    return _save(fig, path)
