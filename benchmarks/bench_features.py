"""Feature extraction speed: batched dl4mir features vs a per-clip librosa loop, and vs the bare FFT floor.

    python benchmarks/bench_features.py            # 200 clips × 2 s at 16 kHz, CPU (and CUDA when present)

All timings are warm (one untimed run first) and measured side by side in this one process; best of N.
Parameters are the course's: n_fft 1024, hop 256, 64 mels, 20 MFCCs.  Targets (issue 3): batched log-mel and
MFCC ≥ 5× faster than the librosa loop; the log-mel pipeline ≤ 2× the time of ``torch.fft.rfft`` over the same
windowed frames.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    import librosa

    from dl4mir.features import nn as FN
    from dl4mir.features import spectral as F

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--sr", type=int, default=16000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    sr, n_fft, hop, n_mels, n_mfcc = args.sr, 1024, 256, 64, 20
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal((args.clips, int(args.seconds * sr)))).astype(np.float32)
    yt = torch.from_numpy(y)
    kw = dict(sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    print(f"{args.clips} clips × {args.seconds} s at {sr} Hz; n_fft {n_fft}, hop {hop}, {n_mels} mels; "
          f"torch threads {torch.get_num_threads()}")

    def librosa_logmel():
        for clip in y:
            librosa.power_to_db(librosa.feature.melspectrogram(y=clip, **kw))

    def librosa_mfcc():
        for clip in y:
            librosa.feature.mfcc(y=clip, n_mfcc=n_mfcc, **kw)

    logmel, mfcc = FN.LogMel(**kw), FN.MFCC(n_mfcc=n_mfcc, **kw)
    window = torch.hann_window(n_fft)

    def fft_floor(x=yt, w=window):
        frames = torch.nn.functional.pad(x, (n_fft // 2, n_fft // 2)).unfold(-1, n_fft, hop)
        return torch.fft.rfft(frames * w)

    rows = {}
    with torch.inference_mode():
        rows["librosa loop: log-mel"] = best_of(librosa_logmel, args.repeats)
        rows["librosa loop: MFCC"] = best_of(librosa_mfcc, args.repeats)
        rows["dl4mir numpy batched: log-mel"] = best_of(lambda: F.log_mel(y=y, **kw), args.repeats)
        rows["dl4mir torch batched: log-mel"] = best_of(lambda: logmel(yt), args.repeats)
        rows["dl4mir torch batched: MFCC"] = best_of(lambda: mfcc(yt), args.repeats)
        rows["bare torch.fft.rfft of the frames"] = best_of(fft_floor, args.repeats)
        chunk = max(1, FN._CPU_CHUNK_BYTES // ((y.shape[-1] // hop + 1) * (n_fft // 2 + 1) * 8))
        rows["bare rfft, in the pipeline's chunks"] = best_of(lambda: [fft_floor(c) for c in yt.split(chunk)],
                                                             args.repeats)
        if torch.cuda.is_available():
            yc, lc, mc, wc = yt.cuda(), logmel.cuda(), mfcc.cuda(), window.cuda()
            rows["CUDA torch batched: log-mel"] = best_of(lambda: lc(yc), args.repeats)
            rows["CUDA torch batched: MFCC"] = best_of(lambda: mc(yc), args.repeats)
            rows["CUDA bare rfft of the frames"] = best_of(lambda: fft_floor(yc, wc), args.repeats)

    audio_s = args.clips * args.seconds
    print(f"{'':38s} {'seconds':>8} {'x realtime':>11}")
    for name, t in rows.items():
        print(f"{name:38s} {t:8.4f} {audio_s / t:11.0f}")
    s_logmel = rows["librosa loop: log-mel"] / rows["dl4mir torch batched: log-mel"]
    s_mfcc = rows["librosa loop: MFCC"] / rows["dl4mir torch batched: MFCC"]
    fastest_fft = min(rows["bare torch.fft.rfft of the frames"], rows["bare rfft, in the pipeline's chunks"])
    floor = rows["dl4mir torch batched: log-mel"] / fastest_fft
    print(f"speed-up over librosa loop: log-mel {s_logmel:.1f}x, MFCC {s_mfcc:.1f}x  (target >= 5x: "
          f"{'MET' if min(s_logmel, s_mfcc) >= 5 else 'MISSED'})")
    print(f"log-mel time / fastest bare rfft time: {floor:.2f}  (target <= 2: {'MET' if floor <= 2 else 'MISSED'})")


if __name__ == "__main__":
    main()
