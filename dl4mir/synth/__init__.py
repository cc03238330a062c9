"""Differentiable synthesizers in torch (lesson "Synthesizer programming"; DDX7, DDSP, Flow Synthesizer).

Batched, on any device, differentiable in every continuous parameter: :mod:`fm` (DX7-style operators),
:mod:`harmonic_noise` (DDSP's harmonic-plus-noise), :mod:`subtractive` (band-limited oscillators into a resonant
low-pass), sharing :mod:`envelopes` and :mod:`dsp`.  :mod:`patches` names each synth's parameters with their
units and musical ranges, validates patch files and renders a patch as a note.
"""
