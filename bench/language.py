"""Figures of the language detector (actions/language.py): memory and accuracy.

- Memory: for French/English and French/English/Spanish, with Lingua's full (preloaded, as the
  action server builds them) and light (low accuracy) models, the resident memory a fresh Python
  process gains by building the detector and detecting five short messages (each configuration in
  its own process, `--runs` times).
- Accuracy: each hold-out sentence (tests/nlu_holdout/<lang>*.yml) said in a conversation that
  was in another language, i.e. the reply language is right only if the sentence itself shows
  it; with the full models (action server) and the light ones (Rasa server's notices).

Usage: .venv/bin/python bench/language.py [--runs 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEASURE = """
import sys
from lingua import Language, LanguageDetectorBuilder

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

languages = [getattr(Language, name) for name in sys.argv[1].split(",")]
builder = LanguageDetectorBuilder.from_languages(*languages)
if sys.argv[2] == "light":
    builder = builder.with_low_accuracy_mode()
else:
    builder = builder.with_preloaded_language_models()  # as actions/language.py builds it
before = rss_mb()
detector = builder.build()
for text in ["Qui dirige l'OIM ?", "Who leads IOM?", "¿Quién dirige la OIM?", "ok", "hola"]:
    detector.compute_language_confidence_values(text)
print(round(rss_mb() - before, 1))
"""


def memory(languages: str, mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, languages, mode], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def holdout(lang: str):
    folder = ROOT / "tests" / "nlu_holdout"
    for path in [folder / f"{lang}.yml", *sorted(folder.glob(f"{lang}.*.yml"))]:
        if not path.exists():
            continue
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    yield line.strip()[2:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    print("Memory gained by building the detector and detecting 5 messages (MB, each run):")
    for label, languages in (("fr+en", "FRENCH,ENGLISH"), ("fr+en+es", "FRENCH,ENGLISH,SPANISH")):
        for mode in ("full", "light"):
            runs = [memory(languages, mode) for _ in range(args.runs)]
            print(f"  {label:9} {mode:5} " + "  ".join(f"{r:6.1f}" for r in runs))

    from actions.language import detect_language

    print("Reply language right for hold-out sentences said in another language's conversation:")
    for lang, others in (("fr", ("en", "es")), ("en", ("fr", "es")), ("es", ("fr", "en"))):
        sentences = list(holdout(lang))
        for light in (False, True):
            right = min(
                sum(detect_language(t, other, light=light) == lang for t in sentences)
                for other in others
            )
            print(f"  {lang} {'light' if light else 'full '}: {right}/{len(sentences)} "
                  f"= {right / max(len(sentences), 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
