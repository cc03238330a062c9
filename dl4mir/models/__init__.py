"""Models, one readable file each: ``build_model("cnn", n_classes=13, n_mels=64, n_frames=126)``."""
from __future__ import annotations

import dataclasses
import importlib

from dl4mir.errors import ConfigError

# name -> (module, class, config class, config defaults that make this variant)
REGISTRY = {
    "mlp": ("mlp", "MLP", "MLPConfig", {}),
    "cnn": ("cnn", "CNN", "CNNConfig", {}),
    "waveform-cnn": ("waveform_cnn", "WaveformCNN", "WaveformCNNConfig", {}),
    "crnn": ("crnn", "CRNN", "CRNNConfig", {}),
    "transformer": ("transformer", "Transformer", "TransformerConfig", {}),
    # generative models (lessons 9-10), on log-magnitude spectrograms
    "ae": ("autoencoder", "Autoencoder", "AutoencoderConfig", {"arch": "dense"}),
    "conv-ae": ("autoencoder", "Autoencoder", "AutoencoderConfig", {"arch": "conv"}),
    "denoising-ae": ("autoencoder", "Autoencoder", "AutoencoderConfig", {"arch": "conv", "noise_std": 1.0}),
    "vae": ("vae", "VAE", "VAEConfig", {"arch": "dense"}),
    "conv-vae": ("vae", "VAE", "VAEConfig", {"arch": "conv"}),
    "cvae": ("vae", "VAE", "VAEConfig", {"arch": "conv", "conditional": True}),
    "gan": ("gan", "GAN", "GANConfig", {"conditional": True}),
    # the tempo lesson, on onset envelopes: self-supervised, and the same network trained on labels
    "tempo-ssl": ("tempo_ssl", "TempoSSL", "TempoSSLConfig", {}),
    "tempo-cnn": ("tempo_ssl", "TempoSSL", "TempoSSLConfig", {"supervised": True}),
    "pitch-ssl": ("pitch_ssl", "PitchSSL", "PitchSSLConfig", {}),  # self-supervised, on constant-Q spectra
    # synthesizer programming: a note's log-mel → its patch (Flow Synthesizer's baselines)
    "synth-estimator": ("synth_estimator", "SynthEstimator", "SynthEstimatorConfig", {"encoder": "cnn"}),
    "synth-estimator-mlp": ("synth_estimator", "SynthEstimator", "SynthEstimatorConfig", {"encoder": "mlp"}),
    "synth-estimator-vae": ("synth_estimator", "SynthEstimator", "SynthEstimatorConfig", {"estimator": "vae"}),
    "synth-estimator-flow": ("synth_estimator", "SynthEstimator", "SynthEstimatorConfig", {"estimator": "flow"}),
    # a waveform VAE in the spirit of RAVE (Caillon & Esling 2021): learns from audio itself, streams in blocks
    "rave": ("rave", "RAVE", "RAVEConfig", {}),
    # differentiable synthesis from pitch and loudness (DDX7; DDSP's harmonic-plus-noise decoder, its baseline)
    "ddx7": ("ddx7", "DDX7", "DDX7Config", {}),
    "hpn": ("hpn", "HpN", "HpNConfig", {}),
    # audio–language (CLAP/MusCALL, Wav2CLIP): log-mel clips and their captions in one embedding space
    "clap": ("clap", "CLAP", "CLAPConfig", {}),
    "clap-content-aware": ("clap", "CLAP", "CLAPConfig", {"content_aware": 0.5}),
    "clap-distill": ("clap", "CLAP", "CLAPConfig", {"objective": "distill"}),
    # captioning (ClipCap): a trained CLAP's audio embedding → a prefix for a small caption language model
    "clipcap": ("captioner", "Captioner", "CaptionerConfig", {"mapping": "mlp"}),
    "clipcap-transformer": ("captioner", "Captioner", "CaptionerConfig", {"mapping": "transformer"}),
    # audio-visual (Sound of Pixels, Zhao et al. 2018): mix-and-separate on videos; multi-label instrument recognition
    "sound-of-pixels": ("sound_of_pixels", "SoundOfPixels", "SoundOfPixelsConfig", {}),
    "sound-of-pixels-binary": ("sound_of_pixels", "SoundOfPixels", "SoundOfPixelsConfig", {"mask": "binary"}),
    "polyphonic": ("polyphonic", "Polyphonic", "PolyphonicConfig", {}),
    "av-localizer": ("av_localizer", "AVLocalizer", "AVLocalizerConfig", {}),  # audio-visual correspondence
}
GENERATIVE = ("ae", "conv-ae", "denoising-ae", "vae", "conv-vae", "cvae", "gan")
TEMPO_PITCH = ("tempo-ssl", "tempo-cnn", "pitch-ssl")  # their own objectives, on onset envelopes / constant-Q
# their own objective, on patch vectors
SYNTH_ESTIMATORS = ("synth-estimator", "synth-estimator-mlp", "synth-estimator-vae", "synth-estimator-flow")
WAVEFORM_GENERATIVE = ("rave",)  # on audio crops of any dataset
CONTROL_DECODERS = ("ddx7", "hpn")  # on audio crops of any dataset with their f0 and loudness curves
AUDIO_LANGUAGE = ("clap", "clap-content-aware", "clap-distill")  # on clips paired with captions
CAPTIONERS = ("clipcap", "clipcap-transformer")  # on clips paired with captions, reading a trained CLAP
AUDIO_VISUAL = ("sound-of-pixels", "sound-of-pixels-binary", "av-localizer", "polyphonic")  # on videos and mixtures of their sounds
CLASSIFIERS = tuple(n for n in REGISTRY if n not in GENERATIVE + TEMPO_PITCH + SYNTH_ESTIMATORS + WAVEFORM_GENERATIVE
                    + CONTROL_DECODERS + AUDIO_LANGUAGE + CAPTIONERS + AUDIO_VISUAL)


def model_classes(name: str):
    if name not in REGISTRY:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}")
    module, cls, cfg, _ = REGISTRY[name]
    mod = importlib.import_module(f"dl4mir.models.{module}")
    return getattr(mod, cls), getattr(mod, cfg)


def build_model(name: str, *, seed: int = 0, **config):
    """Build a model with weights initialized from ``seed`` (torch seeds each process randomly otherwise).

    ``config`` keys that the model's config class does not have are ignored, so shape information can be shared.
    Conditional models take ``n_classes`` from ``config``; the others ignore it.
    """
    import torch

    cls, cfg_cls = model_classes(name)
    defaults = dict(REGISTRY[name][3])
    if not defaults.pop("conditional", False) and name in GENERATIVE:
        config = {k: v for k, v in config.items() if k != "n_classes"}
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    config = {**defaults, **config}
    cfg = cfg_cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k in fields})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(cfg)
    model.registry_name = name  # several names share a class (ae / conv-ae …); export records which
    return model


def input_kind(name: str) -> str:
    return model_classes(name)[0].input_kind
