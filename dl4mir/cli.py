"""The ``dl4mir`` command.  Subcommands follow the data's journey; heavy imports happen inside each handler so
``dl4mir --help`` answers instantly."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG_DATA = """\
datasets:
  guitar-fx     synthetic EGFxSet (guitar notes through 12 effects), made on first use
  guitar-fx-playing  the same effects on guitar playing (riffs, chords, chugs; varied guitars and knobs)
  instruments   synthetic TinySOL (orchestral notes with known pitch), made on first use
  vowels        synthetic Persian CV syllables (6 vowels), made on first use
  rhythms       synthetic drum grooves with tempo, beats and meter (GTZAN's tempo layout), made on first use
  rhythms-gtzan the same grooves with GTZAN's tempo distribution (most near 115 BPM), made on first use
  synth-presets random FM / harmonic-plus-noise / subtractive patches at 5 pitches, with their patches
  av-scenes     synthetic MUSIC-style videos: instrument sprites moving with their sound, with every source
  music:PATH    MUSIC-style videos: PATH/<instrument>/<id>.mp4 (solos), PATH/<A>+<B>/<id>.mp4 (duets)
  egfxset:PATH  the real EGFxSet in PATH        tinysol:PATH  the real TinySOL in PATH
  gtzan:PATH    GTZAN in mirdata's layout       NAME:PATH     any folder in NAME's layout
  folder:PATH   your own audio: PATH/<label>/.../*.wav, or labels.csv (file,label[,group]) in PATH
  captions:PATH your own audio described in PATH/captions.csv (file,caption[,split]); `data captions` writes one

examples:
  dl4mir data make guitar-fx --profile quick
  dl4mir data info egfxset:/data/EGFxSet
  dl4mir data validate guitar-fx
  dl4mir data split guitar-fx --group string --test-groups 5 --out split.json
"""


# TrainConfig's defaults, repeated for --help (importing torch would make `dl4mir --help` slow; a test checks that
# these equal the dataclass's)
TRAIN_DEFAULTS = {"epochs": 15, "batch_size": 32, "lr": 3e-3, "checkpoint_every": 0, "device": "auto", "seed": 0}


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="a dataset name or NAME:PATH (see `dl4mir data --help`)")
    p.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                   help="size of a synthetic dataset (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _parser() -> argparse.ArgumentParser:
    from dl4mir import __version__

    parser = argparse.ArgumentParser(
        prog="dl4mir",
        description="Deep learning for music information retrieval: the course's datasets, features, models "
                    "and report, from one command.",
    )
    parser.add_argument("--version", action="version", version=f"dl4mir {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of errors (default: one line)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the course end to end on the embedded default and write a report",
                         description="Make (or read) the datasets, check them, split them, run every lesson and "
                                     "write everything into runs/<run-id>/ with report.html. Exit status 1 if "
                                     "any step failed (the others still run).")
    run.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                     help="quick: a smoke test in minutes; default: the course; full: the real dataset's size "
                          "(default: %(default)s)")
    run.add_argument("--data", default="guitar-fx", help="guitar data: guitar-fx or egfxset:PATH (default: %(default)s)")
    run.add_argument("--out", default="runs", help="folder for runs (default: %(default)s)")
    run.add_argument("--run-id", default=None, help="name of this run (default: <profile>-<timestamp>)")
    run.add_argument("--test-group", default=None,
                     help="the guitar data's held-out group, KEY=VALUE, e.g. string=2 (default: string=5, the "
                          "course's)")
    run.add_argument("--real-guitar", default=None, metavar="PATH",
                     help="a folder of your own real guitar recordings, labelled by effect type (PATH/<type>/*.wav "
                          "or PATH/labels.csv): the neural-networks lesson reports its models on it beside the "
                          "synthetic test (default: none)")
    run.add_argument("--only", default=None,
                     help="comma-separated steps to run (see `dl4mir lessons list`; default: every step)")
    run.add_argument("--skip", default=None, help="comma-separated steps to leave out (default: none)")
    run.add_argument("--force", action="store_true", help="redo steps that a previous run with this id finished")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="re-render a run's report.html from its artifacts (nothing is recomputed)")
    rep.add_argument("run_dir", help="a folder `dl4mir run` wrote (runs/<run-id>), or one lesson's folder "
                                     "(`dl4mir lessons run`; the page goes beside it as <folder>.html)")
    rep.set_defaults(func=cmd_report)

    tr = sub.add_parser("train", help="train a neural network on a task (resumes the same run, refuses another)",
                        description="Trains MODEL on TASK with the one training loop: leakage-free split (EGFxSet: "
                                    "test on string 5, validate on another held-out string), checkpoints every "
                                    "epoch, early stopping, export to OUT/export. Settings: defaults < --config "
                                    "< --set < flags. Training into a folder that holds a run resumes it only if "
                                    "every setting that defines the run is the same; otherwise it stops and names "
                                    "what differs (--fresh starts over, --out trains elsewhere). Multi-GPU: "
                                    "torchrun --nproc_per_node=N -m dl4mir train ...",
                        epilog="classifiers: mlp, cnn, waveform-cnn, crnn, transformer\n"
                               "generative (log-magnitude spectrograms; the task's label is the condition): ae, "
                               "conv-ae, denoising-ae, vae, conv-vae, cvae, gan\n"
                               "tempo (onset envelopes): tempo-ssl (self-supervised, labels unused), tempo-cnn (the same network "
                               "trained on the labels)\n"
                               "synth parameters (a note's log-mel → its patch in [0, 1]): synth-estimator (CNN), "
                               "synth-estimator-mlp, synth-estimator-vae (VAE + regression), synth-estimator-flow "
                               "(a normalizing flow over patches), on the tasks fm-params, harmonic-noise-params, "
                               "subtractive-params (synth-presets); every synth at once (task synth-params) with "
                               "--multi-task separate-separate|joint-separate|joint-joint (Faronbi et al.)\n"
                               "waveform VAE (audio crops of any dataset, e.g. --data folder:PATH; no task): rave, "
                               "trained with dl4mir/models/configs/rave-small.toml (its steps, learning rate and "
                               "batch size) unless --config names another, e.g. rave-v2.toml (RAVE v2's sizes, for "
                               "a GPU); `dl4mir export rave RUN --streaming` makes it live\n"
                               "resynthesis from pitch and loudness (audio with its f0 and loudness curves, task "
                               "controls, on any dataset, e.g. --data instruments --clips instrument=Violin): ddx7 "
                               "(a causal TCN driving a 6-operator FM synth), hpn (DDSP's GRU decoder driving a "
                               "harmonic-plus-noise synth); then `dl4mir synth resynthesize`\n"
                               "audio–language (clips and their captions, task captions, on guitar-fx, instruments, "
                               "vowels or captions:PATH): clap (symmetric InfoNCE), clap-content-aware (MusCALL-style "
                               "soft targets), clap-distill (Wav2CLIP-style regression into the text space); then "
                               "`dl4mir search` and `dl4mir classify`\n"
                               "captioning (ClipCap, on a trained CLAP: --audio-model RUN/export): clipcap (MLP "
                               "mapping), clipcap-transformer (transformer mapping); then `dl4mir caption`\n"
                               "audio-visual (videos, on av-scenes or music:PATH): sound-of-pixels (mix-and-"
                               "separate, ratio masks; sound-of-pixels-binary), av-localizer (audio-visual "
                               "correspondence; task scenes), polyphonic (which instruments play, task mixtures); "
                               "then `dl4mir separate` and `dl4mir localize`\n"
                               "tasks: effect, effect_type, pickup, string, midi (regression) on guitar-fx or "
                               "egfxset:PATH; family, instrument on instruments or tinysol:PATH; vowel on vowels; "
                               "genre on gtzan:PATH (fault-filtered split if its lists are in PATH); tempo (regression) on "
                               "rhythms or gtzan:PATH; label on folder:PATH (your own audio)\n"
                               "examples: dl4mir train cnn --task effect\n"
                               "          dl4mir train cnn --task genre --data gtzan:/data/GTZAN\n"
                               "          dl4mir train conv-vae --set latent_dim=8 --set beta=0.5\n"
                               "          dl4mir train gan --config gan.toml   ([model] and [train] tables)",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    tr.add_argument("model", help="model name (see the list below)")
    tr.add_argument("--task", default=None,
                    help="what to learn (see the list below; default: effect, audio for rave, captions for clap)")
    tr.add_argument("--data", default=None, help="dataset (default: the task's synthetic one), e.g. egfxset:PATH")
    tr.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                    help="size of a synthetic dataset (default: %(default)s)")
    tr.add_argument("--test-group", default=None,
                    help="groups held out for testing, KEY=VALUE[,VALUE], e.g. string=2 (default: the dataset's "
                         "convention, e.g. EGFxSet's string 5)")
    tr.add_argument("--clips", default=None, metavar="KEY=VALUE[,VALUE]",
                    help="the audio models (rave, ddx7, hpn): train on the clips with these labels only, e.g. "
                         "instrument=Violin or effect=clean (default: every clip)")
    tr.add_argument("--multi-task", default=None,
                    choices=("separate-separate", "joint-separate", "joint-joint"),
                    help="synth-estimator: one model for every synth of synth-presets (task synth-params), "
                         "Faronbi et al.'s encoder-decoder designs (default: none, one synth per model)")
    tr.add_argument("--out", default=None, help="output folder (default: runs/train/<model>-<task>)")
    # Training flags default to None so that a flag the user typed can be told from one left out: the order of
    # precedence is TrainConfig's defaults < --config < --set < these flags.
    d = TRAIN_DEFAULTS
    tr.add_argument("--epochs", type=int, default=None, help=f"passes over the training set (default: {d['epochs']})")
    tr.add_argument("--batch-size", type=int, default=None, help=f"clips per step (default: {d['batch_size']})")
    tr.add_argument("--lr", type=float, default=None, help=f"peak learning rate of AdamW (default: {d['lr']})")
    tr.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (default: no limit)")
    tr.add_argument("--checkpoint-every", type=int, default=None,
                    help=f"steps between checkpoints, 0 = every epoch (default: {d['checkpoint_every']})")
    tr.add_argument("--augment", action="store_true", default=None, help="on-the-fly augmentation (default: off)")
    tr.add_argument("--device", default=None, help=f"auto, cpu, cuda, cuda:1 … (default: {d['device']})")
    tr.add_argument("--seed", type=int, default=None, help=f"seed of weights, batches and augmentation (default: {d['seed']})")
    tr.add_argument("--audio-model", default=None, metavar="EXPORT",
                    help="a captioner's frozen audio tower: the export folder of a `dl4mir train clap` run, "
                         "required for clipcap and clipcap-transformer (default: none)")
    tr.add_argument("--config", default=None, help="TOML file with [model] and [train] tables (default: none)")
    tr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a model or training setting (repeatable), e.g. latent_dim=8 or, a list as TOML writes "
                         "it, ratios=[1,1,1,1,3,14] (default: none)")
    again = tr.add_mutually_exclusive_group()
    again.add_argument("--fresh", action="store_true",
                       help="delete what an earlier run left in the output folder and start over")
    again.add_argument("--resume", action="store_true",
                       help="continue the run in the output folder (an error if there is nothing to continue)")
    tr.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="test metrics of a trained model (from its output folder)")
    ev.add_argument("run_dir", help="the folder `dl4mir train` wrote")
    ev.add_argument("--real-guitar", default=None, metavar="PATH",
                    help="also score an effect or effect_type model on real recordings labelled by effect type "
                         "(PATH/<type>/*.wav, e.g. PATH/delay/take1.wav, or PATH/labels.csv; types: clean, "
                         "distortion, modulation, delay, reverb, or EGFxSet effect names) (default: none)")
    ev.set_defaults(func=cmd_evaluate)

    pr = sub.add_parser("predict", help="classify audio files with an exported model",
                        description="Any WAV/FLAC/OGG at any sample rate and channel count. The model's window (its "
                                    "training duration) slides over the whole file; the answer is the mean of the "
                                    "windows' probabilities. Silent, near-silent, clipped or much-too-short input "
                                    "is answered with a warning. A model trained on the synthetic datasets has "
                                    "learned synthetic notes: on real playing it may be wrong with confidence "
                                    "(measured in the README, 'Predicting on your own audio'). Files that cannot "
                                    "be read are listed at the end (exit code 1).")
    pr.add_argument("files", nargs="+", help="audio files to classify")
    pr.add_argument("--model", required=True, help="an export folder (OUT/export of `dl4mir train`)")
    pr.add_argument("--top", type=int, default=3, help="how many classes to show per file (default: %(default)s)")
    pr.add_argument("--hop", type=float, default=None,
                    help="seconds between window starts (default: half the model's window)")
    pr.add_argument("--per-window", action="store_true", help="also print each window's answer with its times")
    pr.add_argument("--json", action="store_true", help="print machine-readable JSON (warnings and windows included)")
    pr.set_defaults(func=cmd_predict)

    se = sub.add_parser("search", help="find the clips a sentence describes, with an audio–language model",
                        description="Embeds every clip of --data with the model (kept in an index under "
                                    "$DL4MIR_HOME/search_index, keyed by the model's weights and the files, so it is "
                                    "reused only for the same model and audio) and ranks them by cosine similarity "
                                    "to the query's embedding.",
                        epilog='example: dl4mir search "dark tape echo, bridge pickup" --model runs/train/clap-captions'
                               '/export --data guitar-fx -k 10')
    se.add_argument("query", help="what to look for, in words")
    se.add_argument("--model", required=True, help="an export folder of `dl4mir train clap` (required)")
    se.add_argument("--data", default="guitar-fx",
                    help="the audio to search: a dataset name or NAME:PATH, e.g. folder:PATH (default: %(default)s)")
    se.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                    help="size of a synthetic dataset (default: %(default)s)")
    se.add_argument("-k", type=int, default=10, help="how many clips to list (default: %(default)s)")
    se.add_argument("--json", action="store_true", help="print machine-readable JSON")
    se.set_defaults(func=cmd_search)

    zs = sub.add_parser("classify", help="label audio files with classes given as words (zero-shot), with an "
                                         "audio–language model",
                        description="Each label becomes prompts ('the sound of LABEL', …) whose embeddings are "
                                    "averaged; a file's windows are embedded and averaged, and each label scored by "
                                    "cosine similarity. A label may be several descriptions joined by |, e.g. "
                                    "'modulation=chorus|phaser|flanger'. Files that cannot be read are listed at the "
                                    "end (exit code 1).")
    zs.add_argument("files", nargs="+", help="audio files to label")
    zs.add_argument("--model", required=True, help="an export folder of `dl4mir train clap` (required)")
    zs.add_argument("--labels", required=True,
                    help="comma-separated labels, e.g. 'chorus,phaser,clean'; NAME=DESC|DESC names a label described "
                         "several ways (required)")
    zs.add_argument("--prompt", action="append", default=None, metavar="TEMPLATE",
                    help="a prompt template with {} for the label, repeatable; naming the domain helps, e.g. "
                         "'a guitar with {}' (default: the generic 'the sound of {}', 'a recording of {}', …)")
    zs.add_argument("--json", action="store_true", help="print machine-readable JSON")
    zs.set_defaults(func=cmd_classify)

    ca = sub.add_parser("caption", help="describe audio files in a sentence, with a captioning model",
                        description="A file's windows (the model's training length, sliding over the whole file) "
                                    "are embedded by the captioner's audio tower and averaged; the caption is "
                                    "decoded greedily from that embedding's prefix. The captioner knows only the "
                                    "words of the captions it was trained on. Files that cannot be read are listed "
                                    "at the end (exit code 1).",
                        epilog="example: dl4mir caption my_guitar.wav --model runs/train/clipcap-captions/export")
    ca.add_argument("files", nargs="+", help="audio files to describe")
    ca.add_argument("--model", required=True,
                    help="an export folder of `dl4mir train clipcap` or clipcap-transformer (required)")
    ca.add_argument("--json", action="store_true", help="print machine-readable JSON")
    ca.set_defaults(func=cmd_caption)

    sp = sub.add_parser("separate", help="split a video's sound into its sources, with a Sound of Pixels model",
                        description="Finds the places in the video that the model's per-pixel map says the sound "
                                    "comes from (up to --max-sources, each at least --threshold of the strongest), "
                                    "separates each place's sound with its visual features, and writes one WAV per "
                                    "source plus a PNG of the map over four frames into --out.",
                        epilog="example: dl4mir separate duet.mp4 --model runs/train/sound-of-pixels-scenes/export "
                               "--out separated/")
    _video_arguments(sp, "an export folder of `dl4mir train sound-of-pixels` (required)")
    sp.add_argument("--out", required=True, help="folder for the WAVs and the map (required)")
    sp.add_argument("--max-sources", type=int, default=2, help="most sources to separate (default: %(default)s)")
    sp.add_argument("--threshold", type=float, default=0.5,
                    help="a place counts as a source when its map value is at least this share of the highest "
                         "(default: %(default)s)")
    sp.set_defaults(func=cmd_separate)

    lo = sub.add_parser("localize", help="show where in a video its sound comes from",
                        description="The map of a Sound of Pixels or av-localizer model over four frames (a PNG), "
                                    "and the strongest place in pixels; --motion weights the map by optical flow "
                                    "(FlowGrad's cue: a silent instrument does not move with the sound).")
    _video_arguments(lo, "an export folder of `dl4mir train sound-of-pixels` or `av-localizer` (required)")
    lo.add_argument("--out", default="localization.png", help="the PNG to write (default: %(default)s)")
    lo.add_argument("--motion", action="store_true", help="weight the map by the video's motion (default: off)")
    lo.add_argument("--refine", action="store_true",
                    help="snap the map to the object it points at in the middle frame (GrabCut segmentation seeded "
                         "by the map; default: off)")
    lo.set_defaults(func=cmd_localize)

    te = sub.add_parser("tempo", help="estimate the tempo (BPM) of audio files",
                        description="One global tempo per file: the mean autocorrelation tempogram weighted by a "
                                    "log-normal prior around 120 BPM (librosa's feature.tempo, the classic baseline; "
                                    "octave errors are its known failure). Files that cannot be read are listed at "
                                    "the end (exit code 1).")
    te.add_argument("files", nargs="+", help="audio files")
    te.add_argument("--start-bpm", type=float, default=120.0, help="centre of the tempo prior (default: %(default)s)")
    te.add_argument("--model", default=None,
                    help="an export folder of a trained tempo-cnn (OUT/export of `dl4mir train tempo-cnn --task "
                         "tempo`) to use instead of the classic estimator (default: none, the classic estimator)")
    te.add_argument("--json", action="store_true", help="print machine-readable JSON")
    te.set_defaults(func=cmd_tempo)

    syn = sub.add_parser("synth", help="play patches on dl4mir's differentiable synthesizers (FM, harmonic-plus-"
                                       "noise, subtractive)",
                         description="A patch is a JSON object of parameter: value; `dl4mir synth params --synth S` "
                                     "lists a synth's parameters with their units and ranges, `dl4mir synth example "
                                     "--synth S` writes a random patch to start from.")
    ssub = syn.add_subparsers(dest="synth_cmd", required=True)
    synth_help = "the synthesizer: fm, harmonic-noise or subtractive (default: %(default)s)"
    p = ssub.add_parser("render", help="render a patch as one note into a WAV file")
    p.add_argument("--synth", default="fm", help=synth_help)
    p.add_argument("--params", required=True, help="the patch, a JSON file (required)")
    p.add_argument("--f0-hz", type=float, default=220.0, help="the note's fundamental in Hz (default: %(default)s)")
    p.add_argument("--note-s", type=float, default=0.8, help="seconds until the key is released (default: %(default)s)")
    p.add_argument("--duration-s", type=float, default=1.0, help="length of the file in seconds (default: %(default)s)")
    p.add_argument("--sample-rate", type=int, default=16000, help="sample rate in Hz (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default: %(default)s)")
    p.add_argument("--out", required=True, help="the WAV file to write (required)")
    p.set_defaults(func=cmd_synth_render)
    p = ssub.add_parser("match", help="find the patch whose note sounds like a target (gradient descent through the "
                                      "synth from random starting patches, from --init, or from an estimator's "
                                      "guess with --model)")
    p.add_argument("target", help="the audio file to match (mixed to mono, resampled to --sample-rate)")
    p.add_argument("--synth", default=None,
                   help="the synthesizer to program: fm, harmonic-noise or subtractive (default: a single-synth "
                        "--model's synth, else fm)")
    p.add_argument("--out", required=True, help="folder for patch.json and match.wav (required)")
    p.add_argument("--f0-hz", type=float, default=None,
                   help="the target's f0 (default: none, measured with swift-f0)")
    p.add_argument("--note-s", type=float, default=None,
                   help="when the key is released (default: none, 70%% of the target's length)")
    p.add_argument("--init", default=None, help="a patch JSON to start from (default: none, random patches only)")
    p.add_argument("--model", default=None,
                   help="an exported synth-estimator (OUT/export of `dl4mir train synth-estimator --task "
                        "SYNTH-params`, or of a --multi-task one) whose estimate is the starting patch, refined "
                        "(default: none)")
    p.add_argument("--steps", type=int, default=300, help="optimizer steps (default: %(default)s)")
    p.add_argument("--restarts", type=int, default=8, help="starting patches optimized together (default: %(default)s)")
    p.add_argument("--sample-rate", type=int, default=16000, help="the synth's rate in Hz (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starting patches and noise (default: %(default)s)")
    p.set_defaults(func=cmd_synth_match)
    p = ssub.add_parser("resynthesize", help="play recordings' own pitch and loudness through a trained DDX7 or "
                                             "HpN decoder (`dl4mir train ddx7|hpn`)",
                        description="Each file is read at the model's rate (mixed to mono), its f0 and loudness "
                                    "tracked as in training, and rendered by the decoder; scores printed per file "
                                    "(MR-STFT distance, loudness error in dB, f0 error in cents re-tracked). Files "
                                    "that cannot be read or hold no pitch are listed at the end (exit 1).")
    p.add_argument("files", nargs="+", help="audio files (wav, flac, ogg, mp3)")
    p.add_argument("--model", required=True, help="the export folder of a ddx7 or hpn run, RUN/export (required)")
    p.add_argument("--out", required=True, help="folder for one WAV per file, named after it (required)")
    p.add_argument("--block-ms", type=float, default=None,
                   help="render block by block as a live instrument would, e.g. 32 (default: none, whole files)")
    p.set_defaults(func=cmd_synth_resynthesize)
    p = ssub.add_parser("params", help="a synth's parameters: units and ranges")
    p.add_argument("--synth", default="fm", help=synth_help)
    p.set_defaults(func=cmd_synth_params)
    p = ssub.add_parser("example", help="print a random patch as JSON (drawn in each parameter's range)")
    p.add_argument("--synth", default="fm", help=synth_help)
    p.add_argument("--seed", type=int, default=0, help="seed of the draw (default: %(default)s)")
    p.set_defaults(func=cmd_synth_example)

    gen = sub.add_parser("generate", help="make sounds with a trained generative model (VAE, CVAE, GAN, AE, RAVE)",
                         description="Writes WAV files (Griffin-Lim phase for the spectrogram models; RAVE makes "
                                     "waveforms itself) and a figure of the spectrograms made (seconds × Hz). Files "
                                     "are named after what made them (condition, seed, inputs); without --out every "
                                     "invocation gets a new folder.")
    gsub = gen.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = gsub.add_parser("sample", help="draw from the prior (VAE, CVAE, RAVE) or the generator (GAN)")
    p.add_argument("--n", type=int, default=4, help="how many sounds (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the draws (default: %(default)s)")
    p.add_argument("--duration-s", type=float, default=None,
                   help="length of each sound in seconds, RAVE only (default: 2.0)")
    p = gsub.add_parser("interpolate", help="walk the latent path between two audio files (AE, VAE, CVAE)")
    p.add_argument("a", help="audio file at the start of the path (its first 1.008 s are used)")
    p.add_argument("b", help="audio file at the end of the path")
    p.add_argument("--steps", type=int, default=8, help="points on the path, ends included (default: %(default)s)")
    p.add_argument("--method", default="linear", choices=("linear", "slerp"),
                   help="straight line or spherical path between the codes (default: %(default)s)")
    p = gsub.add_parser("transfer", help="move audio files from one class to another, e.g. --from clean --to chorus; "
                                         "with RAVE: timbre transfer, each file played through the model")
    p.add_argument("files", nargs="+", help="audio files to move (their first 1.008 s; RAVE: the whole file)")
    p.add_argument("--from", dest="source", default=None,
                   help="the class the files are in, e.g. clean; spectrogram models only (default: none)")
    p.add_argument("--to", dest="target", default=None,
                   help="the class to move them to, e.g. chorus; spectrogram models only (default: none)")
    p.add_argument("--latents", type=int, default=None,
                   help="RAVE: decode only the first N principal latent dimensions (default: all)")
    p.add_argument("--alpha", type=float, default=1.0,
                   help="how far along the attribute vector, AE/VAE only (default: %(default)s)")
    p.add_argument("--data", default=None, help="dataset for the attribute vector (default: the model's)")
    p.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                   help="profile of that dataset, if synthetic (default: %(default)s)")
    for p in gsub.choices.values():
        p.add_argument("--model", required=True,
                       help="an export folder (OUT/export of `dl4mir train`), or for RAVE the run folder OUT")
        p.add_argument("--out", default=None,
                       help="output folder (default: a new runs/generate/<action>-<settings>[-N] per invocation)")
        p.add_argument("--n-iter", type=int, default=64, help="Griffin-Lim iterations (default: %(default)s)")
        if p.prog.split()[-1] != "transfer":
            p.add_argument("--condition", default=None,
                           help="class to generate, needed by conditional models, e.g. chorus (default: none)")
    gen.set_defaults(func=cmd_generate)

    exp = sub.add_parser("export", help="write a trained model in the form live hosts load (RAVE: streaming)",
                         description="Writes rave_live.ts (TorchScript with encode, decode and forward methods and "
                                     "sample_rate, block_size, n_latents and delay attributes, as nn~ and neutone "
                                     "load) and rave_live.pt2 (torch.export of forward on one block). Both stream: "
                                     "each call takes block_size samples and continues the last call.")
    exp.add_argument("model", choices=("rave",), help="the model family (rave)")
    exp.add_argument("run", help="the run folder `dl4mir train rave` wrote, or its export/ folder")
    exp.add_argument("--streaming", action="store_true",
                     help="the streaming export, block by block (default: off; required: it is the only export "
                          "besides the weights already in RUN/export)")
    exp.add_argument("--latents", type=int, default=None,
                     help="latent dimensions to keep (principal components; default: as many as keep 99%% of the "
                          "latent variance)")
    exp.add_argument("--out", default=None, help="output folder (default: the run's export/ folder)")
    exp.set_defaults(func=cmd_export)

    lessons = sub.add_parser("lessons", help="list the course's lessons or run one",
                             description="Each lesson answers its question of the course on the embedded data (or "
                                         "yours with --data) and writes figures, WAVs and metrics.json.")
    lsub = lessons.add_subparsers(dest="lessons_command", metavar="ACTION")
    lsub.required = True
    p = lsub.add_parser("list", help="the lessons in course order, with their questions")
    p.set_defaults(func=cmd_lessons_list)
    p = lsub.add_parser("run", help="run one lesson")
    p.add_argument("name", help="lesson name, e.g. pca-effects")
    p.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                   help="quick: a smoke test; default: the course; full: longer training (default: %(default)s)")
    p.add_argument("--data", default="guitar-fx", help="guitar data: guitar-fx or egfxset:PATH (default: %(default)s)")
    p.add_argument("--out", default=None, help="output folder (default: runs/lessons/<name>)")
    p.set_defaults(func=cmd_lessons_run)

    feats = sub.add_parser("features", help="compute and cache feature tables for a dataset",
                           description="Features are cached per clip, keyed by the audio's checksum and the "
                                       "parameters: re-runs compute only what is new or changed, interrupted runs "
                                       "resume, and --shard i/n splits the work across machines sharing "
                                       "$DL4MIR_HOME.",
                           epilog="spec examples:\n  logmel:n_mels=32,n_fft=4096,duration_s=4.9\n  mfcc:n_mfcc=13\n"
                                  "  spectrum_db:sr=8000,duration_s=0.5\n  stats",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    fsub = feats.add_subparsers(dest="features_command", metavar="ACTION")
    fsub.required = True
    p = fsub.add_parser("list", help="feature names and their parameters")
    p.set_defaults(func=cmd_features_list)
    for action, helptext in (("extract", "compute (and cache) a feature for every clip"),
                             ("table", "merge the cached features into one .npz table")):
        p = fsub.add_parser(action, help=helptext)
        p.add_argument("--dataset", required=True, help="dataset name or NAME:PATH")
        p.add_argument("--spec", required=True, help="feature spec, e.g. logmel:n_mels=32")
        p.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                       help="size of a synthetic dataset (default: %(default)s)")
        if action == "extract":
            p.add_argument("--shard", default="0/1", help="i/n: this machine's share of the clips (default: all)")
            p.set_defaults(func=cmd_features_extract)
        else:
            p.add_argument("--out", required=True, help="output .npz path")
            p.set_defaults(func=cmd_features_table)

    data = sub.add_parser("data", help="make, inspect, validate and split datasets",
                          description="Datasets: synthetic ones are generated offline in the real datasets' "
                                      "layouts; real ones are read from a folder you give.",
                          epilog=EPILOG_DATA, formatter_class=argparse.RawDescriptionHelpFormatter)
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True

    p = dsub.add_parser("list", help="list the datasets dl4mir knows")
    p.set_defaults(func=cmd_data_list)

    p = dsub.add_parser("make", help="generate a synthetic dataset (skipped if already complete)")
    p.add_argument("name", choices=("guitar-fx", "guitar-fx-playing", "instruments", "vowels", "rhythms",
                                    "rhythms-gtzan", "synth-presets", "av-scenes"),
                   help="which synthetic dataset")
    p.add_argument("--profile", default="default", choices=("quick", "default", "full"),
                   help="quick: for tests; default: the course at 16 kHz; full: the real dataset's size")
    p.add_argument("--out", default=None, help="folder to write into (default: the dl4mir cache, $DL4MIR_HOME)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.set_defaults(func=cmd_data_make)

    p = dsub.add_parser("info", help="what a dataset holds: clip counts per label and group")
    _add_dataset_args(p)
    p.set_defaults(func=cmd_data_info)

    p = dsub.add_parser("captions", help="write captions.csv: sentences describing each clip, from its labels and "
                                         "its measured brightness, decay and level (guitar, instrument, vowel layouts)")
    _add_dataset_args(p)
    p.add_argument("--per-clip", type=int, default=3,
                   help="captions per clip in each wording, train and held-out test (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the phrasing choices (default: %(default)s)")
    p.add_argument("--out", default=None,
                   help="CSV to write (default: captions.csv beside synthetic data; for a real dataset under "
                        "$DL4MIR_HOME/captions/, since its folder is never written)")
    p.set_defaults(func=cmd_data_captions)

    p = dsub.add_parser("validate", help="check every file against the checksum index and the audio headers",
                        description="Reports missing, changed, truncated, swapped and unindexed files, bad "
                                    "index entries and index paths that escape the dataset folder. Exit code 1 "
                                    "if anything is wrong.")
    _add_dataset_args(p)
    p.add_argument("--no-audio", action="store_true", help="skip the audio header checks (checksums only)")
    p.set_defaults(func=cmd_data_validate)

    p = dsub.add_parser("index", help="(re)build the checksum index of a real dataset from its files")
    _add_dataset_args(p)
    p.set_defaults(func=cmd_data_index)

    p = dsub.add_parser("split", help="make a leakage-free test set and K grouped folds",
                        description="Holds out whole groups (a guitar string, a speaker) as the course does, then "
                                    "cuts the rest into stratified, grouped folds. Defaults per layout: EGFxSet "
                                    "holds out string 5; vowels hold out random speakers; TinySOL uses its "
                                    "official folds.")
    _add_dataset_args(p)
    p.add_argument("--group", default=None, help="group key that must not straddle splits, e.g. string, pickup, "
                                                   "speaker (default: the layout's convention)")
    p.add_argument("--test-groups", default=None,
                   help="comma-separated groups for the test set, e.g. 5 (default: the layout's convention)")
    p.add_argument("--test-fraction", type=float, default=None,
                   help="if no test groups: share of the groups drawn at random (default: 0.2, or the layout's "
                        "fixed split)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds on the development set "
                                                        "(default: %(default)s)")
    p.add_argument("--stratify", default=None, help="label to balance across folds, e.g. effect (default: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random choices (default: %(default)s)")
    p.add_argument("--out", default=None, help="write the split as JSON here (default: print only)")
    p.set_defaults(func=cmd_data_split)
    return parser


def _dataset(args):
    from dl4mir.data import get_dataset

    return get_dataset(args.dataset, profile=args.profile)


def cmd_data_list(args) -> int:
    from dl4mir.data.registry import list_datasets

    for name, desc in list_datasets().items():
        print(f"{name:12s} {desc}")
    return 0


def cmd_data_make(args) -> int:
    from dl4mir.data.registry import make_synthetic, synthetic_config

    cfg = synthetic_config(args.name, args.profile)
    root = make_synthetic(args.name, config=cfg, root=args.out, workers=args.workers)
    print(f"{args.name} ({args.profile}): {root}")
    return 0


def cmd_data_captions(args) -> int:
    from dl4mir.data import captions
    from dl4mir.errors import ConfigError
    from dl4mir.features.describe import caption_dataset, default_path

    if args.per_clip < 1:
        raise ConfigError(f"--per-clip must be at least 1, got {args.per_clip}")
    ds = _dataset(args)
    rows, result = caption_dataset(ds, per_clip=args.per_clip, seed=args.seed)
    path = captions.write_captions(rows, args.out or default_path(ds))
    if args.json:
        print(json.dumps({"file": str(path), "rows": len(rows), "failures": result.failure_records()}, indent=1))
    else:
        print(f"wrote {len(rows)} captions of {len(ds.clips) - len(result.failures)} clips to {path}")
        if result.failures:
            print(result.summary())
    return 1 if result.failures else 0


def cmd_data_info(args) -> int:
    info = _dataset(args).info()
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print(f"{info['name']} ({info['layout']} layout): {info['n_clips']} clips in {info['root']}")
    for key, counts in info["label_counts"].items():
        shown = ", ".join(f"{k}: {v}" for k, v in counts.items())
        print(f"  {key:12s} {shown}")
    print("  groups       " + ", ".join(f"{k}: {v}" for k, v in info["n_groups"].items()))
    return 0


def cmd_data_validate(args) -> int:
    report = _dataset(args).validate(check_audio=not args.no_audio)
    print(json.dumps(report.to_dict(), indent=1) if args.json else "\n".join(report.lines()))
    return 0 if report.ok else 1


def cmd_data_index(args) -> int:
    ds = _dataset(args)
    changes = ds.changes() if ds.has_index else "new index"
    path = ds.refresh_index()
    print(f"index written: {path} ({changes or 'no file changed'})")
    return 0


def cmd_data_split(args) -> int:
    from dl4mir.data.splits import default_split

    ds = _dataset(args)
    overrides = {k: v for k, v in (("group_key", args.group), ("stratify", args.stratify)) if v is not None}
    if args.test_groups is not None:
        overrides["test_groups"] = [g.strip() for g in args.test_groups.split(",") if g.strip()]
    if args.group is not None:
        overrides["official"] = False
        overrides.setdefault("test_groups", None)
    if args.test_fraction is not None:
        overrides["test_fraction"] = args.test_fraction
    plan = default_split(ds, seed=args.seed, n_folds=args.folds, **overrides)
    sizes = [f"{len(f['train'])}/{len(f['val'])}" for f in plan.folds]
    groups = f", test groups {', '.join(plan.test_groups)}" if plan.test_groups else ""
    print(f"{ds.name}: {plan.describe()}{groups}: {len(plan.test)} test clips; folds train/val {', '.join(sizes)}")
    if args.out:
        print(f"written: {plan.save(args.out)}")
    elif args.json:
        print(json.dumps(plan.to_dict()))
    return 0


def _csv(text):
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def cmd_run(args) -> int:
    from dl4mir.run import run_course

    report, failed = run_course(profile=args.profile, data=args.data, out=args.out, run_id=args.run_id,
                                only=_csv(args.only), skip=_csv(args.skip), force=args.force,
                                test_group=args.test_group, real_guitar=args.real_guitar)
    print(f"report: {report}")
    return 1 if failed else 0


def cmd_report(args) -> int:
    from dl4mir.report.html import rerender

    print(f"report: {rerender(args.run_dir)}")
    return 0


TRAIN_FLAGS = ("epochs", "batch_size", "lr", "max_steps", "checkpoint_every", "augment", "device", "seed")


def cmd_train(args) -> int:
    from dl4mir.train import train_model

    explicit = {k: getattr(args, k) for k in TRAIN_FLAGS if getattr(args, k) is not None}
    audio_model = None
    if args.audio_model:
        from dl4mir.train.retrieval import load_model

        audio_model = load_model(args.audio_model)
    model_config, task = None, args.task
    if args.multi_task:
        from dl4mir.errors import ConfigError
        from dl4mir.models import SYNTH_ESTIMATORS

        if args.model not in SYNTH_ESTIMATORS:
            raise ConfigError(f"--multi-task designs a synth-estimator, not {args.model}")
        model_config, task = {"multi_task": args.multi_task}, task or "synth-params"
    result = train_model(args.model, task, data=args.data, profile=args.profile, out=args.out,
                         config=args.config, overrides=args.set, model_config=model_config, train=explicit,
                         audio_model=audio_model,
                         resume="fresh" if args.fresh else "resume" if args.resume else "auto",
                         test_group=args.test_group, clips=args.clips)
    test = result.summary["test"]
    if test:
        print("test " + _metrics_line(test))
    print(f"exported: {result.folder.export_dir.resolve()}")
    return 0


def _metrics_line(rep: dict) -> str:
    if "accuracy" in rep:
        return (f"accuracy {rep['accuracy']:.4f}, balanced {rep['balanced_accuracy']:.4f}, macro F1 "
                f"{rep['macro']['f1']:.4f}, ECE {rep['ece']:.4f} (n={rep['n']})")
    if "mse" in rep:
        return f"MSE {rep['mse']:.4f}, MAE {rep['mae']:.4f}, R² {rep['r2']:.4f} (n={rep['n']})"
    return ", ".join(f"{k} {v:.4f}" for k, v in rep.items() if k != "n") + f" (n={rep['n']})"


def _new_folder(base) -> "Path":
    """``base``, or ``base-2``, ``base-3`` … : the first that does not exist yet."""
    from pathlib import Path

    base, n = Path(base), 2
    path = base
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    return path


def cmd_export(args) -> int:
    from dl4mir.errors import ConfigError
    from dl4mir.generate import waveform

    if not args.streaming:
        raise ConfigError("say --streaming: the streaming export is the only one (the weights are in RUN/export)")
    for kind, path in waveform.export_streaming(args.run, args.out, n_latents=args.latents).items():
        print(f"wrote {path} ({kind})")
    return 0


def cmd_generate(args) -> int:
    from pathlib import Path

    from dl4mir.errors import ConfigError
    from dl4mir.generate import commands, waveform

    rave = waveform.is_waveform_model(args.model)
    if args.action == "transfer" and not rave and (args.source is None or args.target is None):
        raise ConfigError("transfer with a spectrogram model needs --from and --to (e.g. --from clean --to chorus)")
    only = {"latents": "rave", "duration_s": "rave", "condition": "spectrogram", "source": "spectrogram",
            "target": "spectrogram"}
    for key, family in only.items():
        if getattr(args, key, None) is not None and (family == "rave") != rave:
            flag = {"source": "from", "target": "to"}.get(key, key).replace("_", "-")
            raise ConfigError(f"--{flag} is for {'RAVE' if family == 'rave' else 'the spectrogram models'}; "
                              f"{args.model} is {'a RAVE' if rave else 'a spectrogram model'}")
    if rave and getattr(args, "method", "linear") != "linear":
        raise ConfigError("RAVE interpolates its latent sequences on a straight line; leave out --method")

    if args.action == "sample":
        what = f"{args.condition or 'prior'}-seed{args.seed}"
    elif args.action == "interpolate":
        what = f"{Path(args.a).stem}-to-{Path(args.b).stem}"
    else:
        what = "timbre" if rave else f"{args.source}-to-{args.target}"
    out = Path(args.out) if args.out else _new_folder(Path("runs") / "generate" / f"{args.action}-{commands.slug(what)}")
    if rave:
        if args.action == "sample":
            res = waveform.sample(args.model, out, n=args.n, seed=args.seed, duration_s=args.duration_s or 2.0)
        elif args.action == "interpolate":
            res = waveform.interpolate(args.model, args.a, args.b, out, steps=args.steps)
        else:
            res = waveform.transfer(args.model, args.files, out, n_dims=args.latents)
    elif args.action == "sample":
        res = commands.sample(args.model, out, n=args.n, condition=args.condition, seed=args.seed, n_iter=args.n_iter)
    elif args.action == "interpolate":
        res = commands.interpolate(args.model, args.a, args.b, out, steps=args.steps, condition=args.condition,
                                   method=args.method, n_iter=args.n_iter)
    else:
        res = commands.transfer(args.model, args.files, out, source=args.source, target=args.target,
                                alpha=args.alpha, data=args.data, profile=args.profile, n_iter=args.n_iter)
    for notice in res["notices"]:
        print(f"note: {notice}")
    if args.action == "transfer":
        batch = res["result"]
        for src, dst in batch.ok.items():
            print(f"{src} -> {dst}")
        if batch.failures:
            print(batch.summary())
            return 1
        return 0
    for f in res["files"]:
        print(f"wrote {f}")
    print(f"figure: {res['figure']}")
    return 0


def cmd_evaluate(args) -> int:
    from dl4mir.errors import ConfigError
    from dl4mir.train import RunFolder, evaluate
    from dl4mir.train.data import prepare, prepare_audio, prepare_captions
    from dl4mir.train.loop import pick_device

    folder = RunFolder.open(args.run_dir)
    settings = folder.settings()
    if settings.get("profile") is None:  # train_model was handed data a lesson or script had prepared itself
        raise ConfigError(f"{folder.path} was trained on data prepared in memory (by a lesson or a script), which "
                          f"this command cannot rebuild; its test figures are in {folder.summary_path}. `dl4mir "
                          "evaluate` re-scores runs of `dl4mir train`")
    model, meta = folder.load_model()
    split = "test"
    if model.input_kind == "controls":  # DDX7 / HpN: their held-out files resynthesized whole
        from dl4mir.train.data import prepare_controls
        from dl4mir.train.resynthesis import evaluate_decoder

        cfg = model.cfg
        data = prepare_controls(settings["data"], sr=cfg.sample_rate, crop_samples=cfg.crop_samples,
                                control_rate_hz=cfg.control_rate_hz, f0_method=cfg.f0_method,
                                clips=settings.get("clips"), profile=settings["profile"],
                                test_group=settings.get("test_group"))
        rep = evaluate_decoder(model, data)
        print(f"{rep['n']} held-out files resynthesized: MR-STFT {rep['mrstft']:.3f}, loudness error "
              f"{rep['loudness_error_db']:.2f} dB, f0 error {rep['f0_error_cents']:.1f} cents "
              f"({rep['parameters'] / 1e6:.2f} M parameters)")
        print(f"written: {folder.write_test_metrics(rep)}")
        return 0
    if model.input_kind == "audio":  # RAVE: crops of the audio it was trained on
        data = prepare_audio(settings["data"], sr=model.cfg.sample_rate, crop_samples=model.cfg.crop_samples,
                             profile=settings["profile"], test_group=settings.get("test_group"),
                             clips=settings.get("clips"))
        if not len(data.rows("test")):
            split = "val"
            print("note: a folder holds nothing out for testing; these are the validation files' figures")
    elif model.input_kind == "captions":  # audio–language models and captioners: their own objective
        if getattr(model, "needs_audio_model", False):
            from dl4mir.train.captioning import evaluate_captioner

            rep = evaluate_captioner(model, meta, settings["data"], profile=settings["profile"],
                                     test_group=settings.get("test_group"))
            named = "".join(f", {slot} named right {a['accuracy']:.3f}" for slot, a in rep.get("attributes", {}).items())
            print(f"captions of {rep['n']} held-out clips: BLEU-4 {rep['bleu4']:.1f}, CIDEr-D {rep['cider']:.3f}{named}")
            print(f"written: {folder.write_test_metrics(rep)}")
            return 0
        data = prepare_captions(settings["data"], profile=settings["profile"], test_group=settings.get("test_group"))
    else:
        data = prepare(settings["task"], input_kind=model.input_kind, data=settings["data"],
                       profile=settings["profile"], test_group=settings.get("test_group"))
    rep = evaluate(model, data, split, device=pick_device("auto"))
    print("test " + _metrics_line(rep))
    for cls, r in rep.get("per_class", {}).items():
        print(f"  {cls:16s} precision {r['precision']:.3f} recall {r['recall']:.3f} f1 {r['f1']:.3f}")
    failures = []
    if args.real_guitar:
        from dl4mir.train.predict import real_guitar_report

        real = rep["real_guitar"] = real_guitar_report(model, meta, args.real_guitar)
        print(f"real guitar ({real['n_files']} files in {real['folder']}): effect-type accuracy "
              f"{real['accuracy']:.3f}, balanced {real['balanced_accuracy']:.3f}")
        print("  recall: " + ", ".join(f"{t} {r:.3f}" for t, r in real["recall"].items()))
        print("  confusion (rows true, columns predicted: " + ", ".join(real["labels"]) + ")")
        for t, row in zip(real["labels"], real["confusion_matrix"]):
            print(f"    {t:11s}" + "".join(f"{v:5d}" for v in row))
        failures = real["failures"]
        for p, cause in failures:
            print(f"  FAILED {p}: {cause}", file=sys.stderr)
    print(f"written: {folder.write_test_metrics(rep)}")
    return 1 if failures else 0


def cmd_predict(args) -> int:
    from dl4mir.train.predict import predict_files

    res = predict_files(args.model, args.files, top_k=args.top, hop_s=args.hop)
    if args.json:
        print(json.dumps({"predictions": {path: pred.to_json() for path, pred in res.ok.items()},
                          "failures": res.failure_records()}, indent=1))
        return 1 if res.failures else 0
    shown = lambda top: ", ".join(f"{c} {p:.3f}" for c, p in top)  # noqa: E731
    for path, pred in res.ok.items():
        n = len(pred.windows)
        print(f"{path} ({pred.duration_s:.2f} s, {n} window{'s' * (n > 1)}): {shown(pred.top)}")
        for w in pred.warnings:
            print(f"  warning: {w}")
        if args.per_window:
            for w in pred.windows:
                print(f"  {w['start_s']:7.2f}–{w['end_s']:.2f} s: {shown(w['top'])}")
    if res.failures:
        print(res.summary())
        return 1
    return 0


def cmd_search(args) -> int:
    from dl4mir.errors import ParameterError
    from dl4mir.train import retrieval

    if args.k < 1:
        raise ParameterError(f"-k must be at least 1, got {args.k}")
    model, meta = retrieval.load_model(args.model)
    index = retrieval.dataset_index(model, meta, args.data, profile=args.profile, export_dir=args.model)
    hits = retrieval.search(model, index, args.query, k=args.k)
    if args.json:
        print(json.dumps({"query": args.query, "results": [{"file": f, "score": s} for f, s in hits]}, indent=1))
        return 0
    print(f"{len(index.files)} clips of {args.data} ({'cached index' if index.cached else 'embedded now'}); "
          f"top {len(hits)} for {args.query!r}:")
    for rank, (f, score) in enumerate(hits, 1):
        print(f"{rank:3d}. {score:.3f}  {f}")
    return 0


def parse_labels(text: str) -> tuple[list[str], list[str]]:
    """``(names, descriptions)`` from ``"chorus,modulation=phaser|flanger"``: a name is its own description unless
    ``NAME=DESC|DESC`` says otherwise."""
    from dl4mir.errors import ConfigError

    names, descriptions = [], []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise ConfigError(f"--labels {text!r}: an empty label (two commas, or one at an end)")
        name, _, desc = (s.strip() for s in part.partition("="))
        if name in names:
            raise ConfigError(f"--labels {text!r}: the label {name!r} repeats")
        names.append(name)
        descriptions.append(desc or name)
    return names, descriptions


def cmd_classify(args) -> int:
    import numpy as np

    from dl4mir.train import retrieval

    names, descriptions = parse_labels(args.labels)
    templates = tuple(args.prompt or retrieval.TEMPLATES)
    retrieval.check_templates(templates)  # a malformed --prompt fails before any loading
    model, meta = retrieval.load_model(args.model)
    res = retrieval.embed_files(model, meta, args.files)
    scores = {}
    if res.ok:
        _, sim = retrieval.zero_shot(model, np.stack(list(res.ok.values())), descriptions, templates=templates)
        scores = {p: sorted(zip(names, map(float, row)), key=lambda t: -t[1]) for p, row in zip(res.ok, sim)}
    if args.json:
        print(json.dumps({"labels": names, "scores": {p: dict(s) for p, s in scores.items()},
                          "failures": res.failure_records()}, indent=1))
    else:
        for p, ranked in scores.items():
            print(f"{p}: " + ", ".join(f"{n} {v:.3f}" for n, v in ranked[:3]))
        if res.failures:
            print(res.summary())
    return 1 if res.failures else 0


def cmd_caption(args) -> int:
    from dl4mir.train import captioning

    model, meta = captioning.load_captioner(args.model)
    res = captioning.caption_files(model, meta, args.files)
    if args.json:
        print(json.dumps({"captions": res.ok, "failures": res.failure_records()}, indent=1))
    else:
        for p, caption in res.ok.items():
            print(f"{p}: {caption}")
        if res.failures:
            print(res.summary())
    return 1 if res.failures else 0


def _video_arguments(p, model_help: str) -> None:
    """What ``separate`` and ``localize`` share: the video, the model, another sound, JSON output."""
    p.add_argument("video", help="a video file (mp4, mkv, webm, mov)")
    p.add_argument("--model", required=True, help=model_help)
    p.add_argument("--audio", default=None, help="the sound to use (default: a WAV of the video's name beside it, "
                                                 "else the video's own track)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _load_av_model(path: str, kinds: tuple[str, ...]):
    from dl4mir.train.checkpoint import load_exported

    return load_exported(Path(path), families=kinds, need="this command needs one of these")[0]


def cmd_separate(args) -> int:
    from dl4mir.audio import save
    from dl4mir.errors import ParameterError
    from dl4mir.report import plots
    from dl4mir.train import audio_visual as AV

    if args.max_sources < 1 or not 0 < args.threshold <= 1:
        raise ParameterError("--max-sources must be >= 1 and --threshold in (0, 1]")
    model = _load_av_model(args.model, ("sound-of-pixels", "sound-of-pixels-binary"))
    res = AV.separate_video(model, args.video, audio_path=args.audio, max_sources=args.max_sources,
                            threshold=args.threshold)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k, ((x, y), src) in enumerate(zip(res["places"], res["sources"])):
        files.append(str(save(out / f"source_{k}_x{x}_y{y}.wav", src, sr=res["sr"], subtype="FLOAT")))
    png = plots.heatmap_overlays(out / "map.png", AV.strip_rows(res["frames"], {"sound": res["map"]},
                                                                label=Path(args.video).name))
    if args.json:
        print(json.dumps({"sources": [{"file": f, "x": x, "y": y} for f, (x, y) in zip(files, res["places"])],
                          "map": str(png)}, indent=1))
    else:
        for f, (x, y) in zip(files, res["places"]):
            print(f"source at x={x}, y={y} px: {f}")
        print(f"map: {png}")
    return 0


def cmd_localize(args) -> int:
    from dl4mir.report import plots
    from dl4mir.train import audio_visual as AV

    model = _load_av_model(args.model, ("sound-of-pixels", "sound-of-pixels-binary", "av-localizer"))
    res = AV.localize_video(model, args.video, audio_path=args.audio, motion=args.motion, refine=args.refine)
    name = ("sound × motion" if args.motion else "sound") + (", refined" if args.refine else "")
    png = plots.heatmap_overlays(args.out, AV.strip_rows(res["frames"], {name: res["map"]},
                                                         label=Path(args.video).name))
    x, y = res["peak"]
    if args.json:
        print(json.dumps({"peak": {"x": x, "y": y}, "map": str(png), "motion": args.motion, "refine": args.refine},
                         indent=1))
    else:
        print(f"the sound comes most from x={x}, y={y} px; map: {png}")
    return 0


def cmd_tempo(args) -> int:
    from dl4mir.audio import BatchResult
    from dl4mir.features.rhythm import tempo

    if args.model is not None:
        from dl4mir.train.predict import tempo_files

        result = tempo_files(args.model, args.files)
        bpm = result.ok
    else:
        result, bpm = BatchResult(), {}
        for path, y, sr in result.each_loaded(args.files, sr=22050):  # one file in memory at a time
            bpm[path] = float(tempo(y=y, sr=sr, start_bpm=args.start_bpm))
    if args.json:
        print(json.dumps({"tempo_bpm": bpm, "failures": result.failure_records()}))
    else:
        for path, value in bpm.items():
            print(f"{path}: {value:.1f} BPM")
        if result.failures:
            print(result.summary())
    return 1 if result.failures else 0


def cmd_synth_render(args) -> int:
    from dl4mir.audio import save
    from dl4mir.errors import ParameterError
    from dl4mir.synth import patches

    for name in ("f0_hz", "note_s", "duration_s", "sample_rate"):
        if not getattr(args, name) > 0:
            raise ParameterError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if args.f0_hz >= args.sample_rate / 2:
        raise ParameterError(f"--f0-hz {args.f0_hz} is at or above Nyquist ({args.sample_rate / 2} Hz)")
    patch = patches.load(args.params, args.synth)
    y = patches.render(args.synth, patch, f0_hz=args.f0_hz, note_s=args.note_s, duration_s=args.duration_s,
                       sample_rate=args.sample_rate, seed=args.seed)
    peak = float(abs(y).max())
    if peak > 1.0:  # resonance and stacked carriers can exceed full scale: scale down rather than clip
        y = y / peak
    path = save(args.out, y, sr=args.sample_rate)
    print(f"{path}: {args.synth}, {args.duration_s:g} s at {args.f0_hz:g} Hz, peak {min(peak, 1.0):.2f}"
          + (f" (scaled down from {peak:.2f})" if peak > 1.0 else ""))
    return 0


def cmd_synth_resynthesize(args) -> int:
    from pathlib import Path

    from dl4mir.audio import BatchResult, save
    from dl4mir.errors import ParameterError
    from dl4mir.models import CONTROL_DECODERS
    from dl4mir.train.checkpoint import load_exported
    from dl4mir.train.resynthesis import analyse, render_curves, resynthesis_scores

    model, _ = load_exported(args.model, families=CONTROL_DECODERS, need="resynthesis needs a pitch-and-loudness decoder")
    if args.block_ms is not None and not args.block_ms > 0:
        raise ParameterError(f"--block-ms must be positive, got {args.block_ms}")
    sr, out, result = model.cfg.sample_rate, Path(args.out), BatchResult()
    block = None if args.block_ms is None else max(1, round(args.block_ms / 1000 * sr / model.hop))
    out.mkdir(parents=True, exist_ok=True)
    for path, y, _ in result.each_loaded(args.files, sr=sr, mono=True):
        try:
            performance = analyse(model, y, sr=sr)
        except ParameterError as exc:
            result.failures.append((path, str(exc)))
            continue
        audio = render_curves(model, performance.curves, block_frames=block)
        target = out / f"{Path(path).stem}.wav"
        save(target, audio / max(1.0, float(abs(audio).max())), sr=sr)
        r = resynthesis_scores(model, performance, audio)
        print(f"{path} -> {target}: MR-STFT {r['mrstft']:.3f}, loudness error {r['loudness_error_db']:.1f} dB, "
              f"f0 error {r['f0_error_cents']:.1f} cents")
        result.ok[path] = target
    if result.failures:
        print(result.summary())
        return 1
    return 0


def cmd_synth_match(args) -> int:
    from pathlib import Path

    from dl4mir.audio import load, save
    from dl4mir.errors import ConfigError
    from dl4mir.synth import patches
    from dl4mir.synth.matching import match

    if args.init and args.model:
        raise ConfigError("give --init or --model, not both: each is the starting patch")
    y, sr = load(args.target, sr=args.sample_rate, mono=True)
    synth, init = args.synth or "fm", None
    if args.model:
        from dl4mir.train.predict import estimate_patch

        synth, unit = estimate_patch(args.model, y, sr, synth=args.synth)
        init = patches.denormalize(unit, synth)
        print(f"{args.model}: estimated a {synth} patch")
    patches.names(synth)  # an unknown synth is an error listing them
    if args.init:
        init = patches.load(args.init, synth)
    f0_hz = args.f0_hz
    if f0_hz is None:
        from dl4mir.errors import ParameterError
        from dl4mir.features.control import note_f0

        f0_hz = note_f0(y=y, sr=sr)
        if f0_hz is None:
            raise ParameterError(f"{args.target}: no pitch found; give its f0 with --f0-hz")
    result = match(y, synth=synth, sr=sr, f0_hz=f0_hz, note_s=args.note_s, init=init, steps=args.steps,
                   restarts=args.restarts, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "patch.json").write_text(json.dumps(result.patch, indent=1))
    save(out / "match.wav", result.audio / max(1.0, float(abs(result.audio).max())), sr=sr)
    start, end = result.lsd_start, result.lsd_end
    print(f"{args.target}: {synth} at {result.f0_hz:.1f} Hz, released at {result.note_s:.2f} s, gain "
          f"{result.gain_db:+.1f} dB, {result.seconds:.0f} s")
    print(f"  LSD {start['lsd_db']:.1f} → {end['lsd_db']:.1f} dB; squared log10 power {start['lsd_log10_power_sq']:.2f} → "
          f"{end['lsd_log10_power_sq']:.2f}; MR-STFT {start['mrstft']:.3f} → {end['mrstft']:.3f} "
          f"(the best starting patch → the match)")
    print(f"  wrote {out / 'patch.json'} and {out / 'match.wav'}")
    return 0


def cmd_synth_params(args) -> int:
    from dl4mir.synth import patches

    patches.names(args.synth)  # unknown synth: the error lists them
    for name, rng in patches.SPACES[args.synth].items():
        print(f"{name:24s} {rng.low:g} … {rng.high:g}{' (log)' if rng.log else ''}  {rng.unit}".rstrip())
    return 0


def cmd_synth_example(args) -> int:
    import numpy as np

    from dl4mir.synth import patches

    patch = patches.random_patch(args.synth, np.random.default_rng(args.seed))
    print(json.dumps({k: round(v, 4) for k, v in patch.items()}, indent=1))
    return 0


def cmd_lessons_list(args) -> int:
    from dl4mir.lessons import LESSONS

    for lesson in LESSONS:
        print(f"{lesson.name:20s} {lesson.title}\n{'':20s} {lesson.question}")
    return 0


def cmd_lessons_run(args) -> int:
    from pathlib import Path

    from dl4mir.lessons import LessonContext, run_lesson

    out = Path(args.out or Path("runs") / "lessons" / args.name)
    record = run_lesson(args.name, LessonContext(out_dir=out, profile=args.profile, guitar=args.data))
    print(f"{record['title']} ({record['seconds']:.1f} s)\n  {record['question']}")
    labels = record.get("headline_labels", {})
    for k, v in record["headline"].items():
        print(f"  {labels.get(k, k)}: {v}")
    print(f"artifacts: {out.resolve()}\nas a web page: dl4mir report {out}")
    return 0


def cmd_features_list(args) -> int:
    from dl4mir.features.cache import FEATURE_DEFAULTS

    for name, params in FEATURE_DEFAULTS.items():
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        print(f"{name:12s} {shown}  (+ sr=16000, duration_s=whole clip, offset_s=0)")
    return 0


def _shard(text):
    from dl4mir.errors import ConfigError

    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    return i, n


def cmd_features_extract(args) -> int:
    from dl4mir.data import get_dataset
    from dl4mir.features.cache import FeatureSpec, cache_dir, extract

    spec = FeatureSpec.parse(args.spec)
    report = extract(get_dataset(args.dataset, profile=args.profile), spec, shard=_shard(args.shard))
    print(f"{spec}: {report.summary()}\ncache: {cache_dir(spec)}")
    return 1 if report.failures else 0


def cmd_features_table(args) -> int:
    from dl4mir.data import get_dataset
    from dl4mir.features.cache import FeatureSpec, load_table

    table = load_table(get_dataset(args.dataset, profile=args.profile), FeatureSpec.parse(args.spec))
    path = table.save(args.out)
    print(f"{len(table.clip_ids)} clips × {table.X.shape[1:]} written to {path}"
          + (f"; {len(table.missing)} missing: {', '.join(table.missing[:10])}" if table.missing else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command.  A user's mistake (a ``Dl4mirError``: bad file, option, config, dataset) is one line on
    stderr and exit status 2; anything else is a bug in dl4mir and keeps its traceback.  ``--debug`` shows the
    traceback of user errors too."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from dl4mir.errors import Dl4mirError

    try:
        return args.func(args)
    except Dl4mirError as exc:
        if args.debug:
            raise
        print(f"dl4mir: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dl4mir: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
