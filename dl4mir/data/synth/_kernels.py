"""Sample-by-sample DSP loops compiled with numba (recursive filters with time-varying delays cannot be vectorized).

Each kernel is the small, documented recurrence named in its docstring; numba caches the machine code next to this
file so only the first run of a fresh install pays the compile time.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=False)
def waveguide_string(excitation, n_out, delay_int, allpass_c, loop_gain, brightness):  # pragma: no cover - jitted
    """Extended Karplus–Strong (Jaffe & Smith 1983) single-delay-loop string.

    ``y[n] = e[n] + g · L(A(y[n - N]))`` where ``L(z) = (1 - S) + S z⁻¹`` is the frequency-dependent loss
    (``S = brightness``, 0 bright … 0.5 dull), ``A(z) = (c + z⁻¹)/(1 + c z⁻¹)`` a first-order allpass that tunes the
    fractional part of the period, and ``g`` the per-period loop gain that sets the T60.
    """
    y = np.zeros(n_out, dtype=np.float64)
    ne = excitation.shape[0]
    ap_x1 = 0.0  # allpass state: previous input and output
    ap_y1 = 0.0
    lp_x1 = 0.0
    for n in range(n_out):
        fb = 0.0
        if n >= delay_int:
            d = y[n - delay_int]
            a = allpass_c * d + ap_x1 - allpass_c * ap_y1
            ap_x1 = d
            ap_y1 = a
            fb = loop_gain * ((1.0 - brightness) * a + brightness * lp_x1)
            lp_x1 = a
        e = excitation[n] if n < ne else 0.0
        y[n] = e + fb
    return y


@njit(cache=True)
def modulated_delay(x, delay_samples, feedback, lp_coef, hp_coef, drive, bp_center, bp_q, sr):  # pragma: no cover
    """A delay line with a time-varying fractional delay and processing inside the feedback loop.

    For each sample: ``w = x[n] + feedback · tanh_drive(HP(LP(d)))`` is written to the line, where ``d`` is the
    line read ``delay_samples[n]`` samples back (linear interpolation).  ``LP``/``HP`` are one-pole filters
    (coefficients 0 disable them) so repeats darken and thin like tape; ``drive > 0`` saturates the loop
    (``tanh(drive·v)/drive``).  The returned *wet* signal is ``d``, optionally through a state-variable band-pass
    with per-sample centre ``bp_center[n]`` Hz (the sweep echo) when ``bp_q > 0``.
    """
    n_total = x.shape[0]
    size = 1
    max_d = 0.0
    for i in range(n_total):
        if delay_samples[i] > max_d:
            max_d = delay_samples[i]
    while size < int(max_d) + 4:
        size *= 2
    line = np.zeros(size, dtype=np.float64)
    mask = size - 1
    wet = np.zeros(n_total, dtype=np.float64)
    lp = 0.0
    hp_prev_in = 0.0
    hp = 0.0
    low = 0.0
    band = 0.0
    for n in range(n_total):
        pos = n - delay_samples[n]
        i0 = int(np.floor(pos))
        frac = pos - i0
        a = line[i0 & mask] if i0 >= 0 else 0.0
        b = line[(i0 + 1) & mask] if i0 + 1 >= 0 and i0 + 1 <= n - 1 else 0.0
        d = (1.0 - frac) * a + frac * b
        v = d
        if lp_coef > 0.0:
            lp = (1.0 - lp_coef) * v + lp_coef * lp
            v = lp
        if hp_coef > 0.0:
            hp = hp_coef * (hp + v - hp_prev_in)
            hp_prev_in = v
            v = hp
        if drive > 0.0:
            v = np.tanh(drive * v) / drive
        line[n & mask] = x[n] + feedback * v
        if bp_q > 0.0:
            f = 2.0 * np.sin(np.pi * min(bp_center[n], 0.45 * sr) / sr)
            high = d - low - band / bp_q
            band = band + f * high
            low = low + f * band
            wet[n] = band
        else:
            wet[n] = d
    return wet


@njit(cache=True)
def spring_tank(x, delay_int, n_allpass, allpass_a, feedback, lp_coef):  # pragma: no cover - jitted
    """A spring reverb's dispersive loop (after Välimäki, Parker & Abel 2010, much simplified).

    The loop holds a delay of ``delay_int`` samples, a cascade of ``n_allpass`` identical first-order allpasses
    ``(a + z⁻¹)/(1 + a z⁻¹)`` (their group delay falls with frequency, which smears each round trip into the
    spring's descending "chirp") and a one-pole low-pass; ``feedback`` sets the decay.
    """
    n_total = x.shape[0]
    line = np.zeros(delay_int, dtype=np.float64)
    xs = np.zeros(n_allpass, dtype=np.float64)
    ys = np.zeros(n_allpass, dtype=np.float64)
    out = np.zeros(n_total, dtype=np.float64)
    lp = 0.0
    for n in range(n_total):
        v = line[n % delay_int]
        for k in range(n_allpass):
            yk = allpass_a * v + xs[k] - allpass_a * ys[k]
            xs[k] = v
            ys[k] = yk
            v = yk
        lp = (1.0 - lp_coef) * v + lp_coef * lp
        out[n] = lp
        line[n % delay_int] = x[n] + feedback * lp
    return out


@njit(cache=True)
def formant_cascade(source, freqs_hz, bandwidths_hz, sr):  # pragma: no cover - jitted
    """Cascade of two-pole resonators with per-sample formant frequencies (Klatt 1980's cascade branch).

    ``freqs_hz`` and ``bandwidths_hz`` are ``(n_formants, n)``; each resonator has unit gain at DC, as Klatt's.
    """
    n_f, n_total = freqs_hz.shape
    y = source.astype(np.float64).copy()
    for k in range(n_f):
        y1 = 0.0
        y2 = 0.0
        for n in range(n_total):
            r = np.exp(-np.pi * bandwidths_hz[k, n] / sr)
            c = -r * r
            b = 2.0 * r * np.cos(2.0 * np.pi * freqs_hz[k, n] / sr)
            a = 1.0 - b - c
            v = a * y[n] + b * y1 + c * y2
            y2 = y1
            y1 = v
            y[n] = v
    return y
