"""From models back to sound: spectrogram representation and inversion (:mod:`.spectrogram`), latent-space tools
(:mod:`.latent`).  Submodules are imported where used, so ``import dl4mir.generate`` stays light."""
