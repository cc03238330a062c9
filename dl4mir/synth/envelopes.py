"""Envelopes: the ADSR every synthesizer of the lesson uses for amplitude (and the subtractive synth for its
filter), piecewise linear and differentiable in its four times and its level."""
from __future__ import annotations

import torch


def adsr(*, attack_s, decay_s, sustain_level, release_s, note_s, n_samples: int, sample_rate: float
         ) -> torch.Tensor:
    """ADSR envelopes ``(..., n_samples)`` for parameters of any common shape ``(...)`` (e.g. ``(B,)``, or
    ``(B, operators)``): from 0 up to 1 in ``attack_s``, down to ``sustain_level`` in ``decay_s``, held until the
    key is released at ``note_s``, then down to 0 in ``release_s`` from whatever level it had reached (a note
    shorter than its attack is released from part-way up)."""
    attack, decay, sustain, release, note = torch.broadcast_tensors(*(torch.as_tensor(v) for v in (
        attack_s, decay_s, sustain_level, release_s, note_s)))
    attack, decay, release = (v.clamp_min(1e-4)[..., None] for v in (attack, decay, release))
    sustain, note = sustain[..., None], note[..., None]
    t = torch.arange(n_samples, dtype=attack.dtype, device=attack.device) / sample_rate

    def held(time):
        rising = (time / attack).clamp(max=1.0)
        falling = 1 - (1 - sustain) * ((time - attack) / decay).clamp(0.0, 1.0)
        return torch.where(time < attack, rising, falling)

    released = held(note) * (1 - (t - note) / release).clamp(0.0, 1.0)
    return torch.where(t < note, held(t), released)
