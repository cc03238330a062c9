"""The course on the quick profile, end to end: every lesson runs, answers its question with numbers that meet
the issue's targets, and the report shows its figures and sounds with every text escaped."""
import json

import pytest

from dl4mir.lessons import LESSONS
from dl4mir.report.html import write_report
from dl4mir.run import run_course

pytestmark = pytest.mark.slow


def _record(run_dir, step):
    return json.loads((run_dir / step / "metrics.json").read_text())


def test_every_step_succeeds(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    assert [k for k, v in summary["steps"].items() if v["status"] != "ok"] == []
    assert set(summary["steps"]) >= {lesson.name for lesson in LESSONS}
    assert summary["provenance"]["profile"] == "quick"


def test_lesson_targets(quick_run):
    softmax = _record(quick_run, "softmax-vowels")["metrics"]["results"]
    assert softmax["MFCC stats"]["test_clean"] >= 0.90
    assert softmax["MFCC stats + augmentation"]["test_noisy_10dB"] > softmax["MFCC stats"]["test_noisy_10dB"]
    logistic = _record(quick_run, "logistic-regression")
    assert logistic["metrics"]["test"]["accuracy"] >= 0.95
    pca = _record(quick_run, "pca-effects")["metrics"]
    assert max(v["probe_accuracy"] for v in pca["results"]["clean vs distortion"].values()) >= 0.95
    dft = _record(quick_run, "dft")["headline"]
    assert dft["alias_hz"] == 3000.0
    assert dft["dft_max_error_n1024"] < 1e-8
    assert abs(dft["note_f0_yin_hz"] - dft["note_f0_label_hz"]) < 1.0
    aug = _record(quick_run, "augmentation")["headline"]
    assert abs(aug["snr_db"] - 10) < 0.5 and abs(aug["pitch_shift_semitones"] - 3) < 0.2


def test_the_real_guitar_folder_is_reported_beside_the_synthetic_test(quick_run):
    """`dl4mir run --real-guitar PATH`: the neural-networks lesson scores every model on the user's recordings."""
    rec = _record(quick_run, "neural-networks")
    real = rec["metrics"]["table"]["cnn"]["real_guitar"]
    assert real["n_files"] == 4 and set(real["recall"]) == {"clean", "delay"} and real["failures"] == []
    assert 0 <= rec["headline"]["best_real_effect_type_accuracy"] <= 1
    assert {f["file"] for f in rec["figures"]} >= {"real_vs_synthetic.png", "confusion_real.png"}
    assert "On your 4 real recordings" in rec["metrics"]["answer"]


def test_headlines_are_stable_numeric_keys_with_labels(quick_run):
    for lesson in LESSONS:
        rec = _record(quick_run, lesson.name)
        assert rec["headline"] and set(rec["headline"]) == set(rec["headline_labels"]), lesson.name
        for key, value in rec["headline"].items():
            assert key.replace("_", "").replace("-", "").isalnum() and key == key.lower(), (lesson.name, key)
            # numbers stay numbers: a string value is a name (a model, a feature), never a formatted number
            if isinstance(value, str):
                assert not value.split()[0].replace(".", "", 1).lstrip("-").isdigit() and "±" not in value, (key, value)


def test_answers_follow_the_numbers():
    from dl4mir.lessons import neural_networks, pca_effects, softmax_vowels

    scores = lambda a: {"|FFT|": {"probe_accuracy": a}}  # noqa: E731
    text = pca_effects.answer({"clean vs rat": scores(1.0), "chorus vs flanger": scores(0.5)},
                              {"clean vs rat": "|FFT|", "chorus vs flanger": "|FFT|"})
    assert "clean vs rat" in text.split("Not separated")[0] and "chorus vs flanger (50%)" in text
    assert "Every pair" in pca_effects.answer({"a vs b": scores(0.9)}, {"a vs b": "|FFT|"})
    r = lambda raw, mfcc, plain, aug: {"raw audio (course)": {"test_clean": raw},  # noqa: E731
                                       "MFCC stats": {"test_clean": mfcc, "test_noisy_10dB": plain},
                                       "MFCC stats + augmentation": {"test_noisy_10dB": aug}}
    assert "did not help" in softmax_vowels.answer(r(0.2, 0.9, 0.7, 0.6), n_classes=6)
    assert "lifts accuracy from 60.0% to 70.0%" in softmax_vowels.answer(r(0.2, 0.9, 0.6, 0.7), n_classes=6)
    res = lambda acc: {"test_accuracy": acc, "parameters": 10}  # noqa: E731
    assert "not beaten" in neural_networks.answer({"mlp": res(0.9), "cnn": res(0.8)})
    assert "beats the flat MLP" in neural_networks.answer({"mlp": res(0.8), "cnn": res(0.9)})
    from dl4mir.lessons import audio_language

    cap = lambda effect: {"bleu4": 40.0, "cider": 1.5, "attributes": {  # noqa: E731
        "effect": {"accuracy": effect}, "pickup": {"accuracy": 0.6}}}
    text = audio_language.caption_answer({"retrieval": cap(0.9), "clipcap": cap(0.95)})
    assert "meets the 80% bar" in text and "beats simply copying" in text and "names the effect of 95%" in text
    text = audio_language.caption_answer({"retrieval": cap(0.9), "clipcap": cap(0.7)})
    assert "misses the 80% bar" in text and "does not beat" in text
    from dl4mir.lessons import synth_programming

    dec = lambda mrstft, steps=500: {"mrstft": mrstft, "parameters": 4.3e6 if mrstft == 1.0 else 0.33e6,  # noqa: E731
                                     "steps": steps, "loudness_error_db": 1.0, "f0_error_cents": 5.0, "rtf_32ms": 0.1}
    text = synth_programming.answer_decoders({"n_train_notes": 70, "ddx7": dec(1.1), "hpn": dec(1.0)})
    assert "within 10%" in text and "claim holds" in text and "Only" not in text
    text = synth_programming.answer_decoders({"n_train_notes": 70, "ddx7": dec(1.5, 50), "hpn": dec(1.0, 50)})
    assert "50% worse — NOT within" in text and "Only 50 steps" in text


def test_the_multi_task_answer_says_whether_the_paper_held():
    from dl4mir.lessons import synth_programming

    def scores(sep, js, jj):
        per = {"mean": {"lsd_db": 25.0, "lsd_log10_power_sq": 8.0, "param_mae": 0.26}}
        for d, v in zip(synth_programming.DESIGNS, (sep, js, jj)):
            per[d] = {"lsd_db": v, "lsd_log10_power_sq": v / 4, "param_mae": 0.2}
        return {"n_train": 600, "n_test": 200, **per, "per_synth": {"fm": per}}

    text = synth_programming.answer_designs(scores(15.0, 14.0, 16.0))
    assert "A joint encoder (joint-separate) beats separate models" in text and "14.0 against 15.0" in text
    text = synth_programming.answer_designs(scores(13.0, 14.0, 16.0))
    assert "did NOT hold here" in text and "fm 13.0 dB by separate-separate" in text
    assert "does not decide it" not in text
    assert "does not decide it" in synth_programming.answer_designs(scores(15.0, 14.5, 16.0))


def test_synth_programming_lesson_compares_the_designs_and_the_decoders(quick_run):
    d = _record(quick_run, "synth-programming")
    mt = d["metrics"]["multi_task"]
    assert set(mt["per_synth"]) == {"fm", "harmonic-noise", "subtractive"}
    assert sum(v["n_test"] for v in mt["per_synth"].values()) == mt["n_test"] > 0
    for design in ("separate-separate", "joint-separate", "joint-joint"):
        assert d["headline"][f"{design}_lsd_db"] == mt[design]["lsd_db"] > 0
    dec = d["metrics"]["decoders"]
    assert dec["hpn"]["parameters"] >= 8 * dec["ddx7"]["parameters"]
    assert dec["ddx7"]["n"] > 0 and dec["ddx7"]["steps"] == dec["hpn"]["steps"]
    assert {"violin_ddx7.wav", "violin_hpn.wav"} <= {a["file"] for a in d["audio"]}
    assert "DDX7 resynthesizes held-out notes" in d["metrics"]["answer"]


def test_report_shows_every_figure_and_sound(quick_run):
    html = (quick_run / "report.html").read_text()
    for lesson in LESSONS:
        rec = _record(quick_run, lesson.name)
        assert f'id="{lesson.name}"' in html
        for fig in rec["figures"]:
            assert (quick_run / lesson.name / fig["file"]).stat().st_size > 1000
            assert f"{lesson.name}/{fig['file']}" in html
        for a in rec["audio"]:
            assert (quick_run / lesson.name / a["file"]).is_file()
    assert html.count("<img") >= 25 and html.count("<audio") >= 6 + 13 + 8 + 6 + 10


def test_rerun_skips_finished_steps_and_only_selects(quick_run, capsys):
    run_course(profile="quick", out=quick_run.parent, run_id="q", only=["dft", "augmentation"],
               real_guitar=quick_run.parent / "real")
    out = capsys.readouterr().out
    assert "[dft] already done" in out and "[augmentation] already done" in out and "features" not in out.split("step")[0]


def test_report_escapes_untrusted_text(tmp_path):
    evil = '<script>alert(1)</script>"onmouseover="x</script>'
    points = [{"x": 0.0, "y": 1.0, "label": evil, "name": evil, "audio": "clips/a.wav"}]
    results = {"step": {"status": "ok", "seconds": 1.0, "peak_rss_mb": 1.0, "record": {
        "title": evil, "question": evil, "headline": {evil: evil}, "metrics": {"answer": evil, evil: [evil]},
        "figures": [{"file": "a.png", "caption": evil}], "audio": [{"file": "a.wav", "caption": evil}],
        "maps": [{"caption": evil, "points": points}]}},
        "broken": {"status": "failed", "seconds": 0.5, "error": evil}}
    html = write_report(tmp_path, results, {"label": evil}).read_text()
    assert "<script>alert" not in html and '"onmouseover="' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\u003cscript\\u003e" in html  # inside the embedded map JSON: no "</script>" can end the block
    assert html.count("</script>") == html.count("<script")  # only the page's own script blocks


def test_generative_lessons_measure_what_they_claim(quick_run):
    ae = _record(quick_run, "autoencoders")
    m = ae["metrics"]
    assert m["round_trip"]["griffin_lim_spectral_convergence"] < 0.1  # magnitudes survive phase retrieval
    assert set(m["latent_sizes"]) == {"8", "16"}
    assert m["latent_sizes"]["16"]["pca_lsd_db"] < m["latent_sizes"]["8"]["pca_lsd_db"]  # more components, closer
    # the denoiser sees less corruption in its output than in its input, and other sounds score as anomalies
    assert m["denoising"]["denoising_ae_lsd_db"] < m["denoising"]["noisy_input_lsd_db"]
    assert m["anomaly"]["roc_auc"] > 0.6
    assert m["anomaly"]["median_score"]["other instruments"] > m["anomaly"]["median_score"]["guitar (held-out string)"]
    for rec in (ae, _record(quick_run, "vae-gan")):
        assert rec["maps"] and len(rec["maps"][0]["points"]) >= 20
        for point in rec["maps"][0]["points"]:
            assert (quick_run / rec["lesson"] / point["audio"]).stat().st_size > 1000
    vg = _record(quick_run, "vae-gan")["metrics"]
    assert "not VGGish" in vg["note"]
    assert vg["judge_accuracy"] > 0.3  # five effect types: chance is 0.2
    for name in ("cvae", "gan"):  # samples are farther from real clips than real clips are from each other
        assert vg["generation"][name]["frechet_distance_own_classifier"] > vg["real_vs_real_frechet"]
    assert len(vg["cvae"]["kl_per_dimension"]) == 16
