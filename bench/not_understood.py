"""The not-understood rate to expect: the share of messages the assistant answers "not sure I
understood" (nlu_fallback, as iom_not_understood_total counts it: the classifier's intent after
actions.understanding.resolve_intent), on the hold-out sets (tests/nlu_holdout: questions in
scope, written apart from the training data) and the public-phrasing sets (tests/nlu_public: how
the public words them). It sets the alert threshold of deploy/prometheus/alerts.yml
(docs/operating.md, "Monitoring").

    .venv/bin/python -m bench.not_understood [--model models/iom.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tools.evaluate_holdout import holdout_files, load_examples  # noqa: E402

SETS = {"hold-out": ROOT / "tests" / "nlu_holdout", "public phrasing": ROOT / "tests" / "nlu_public"}


async def rates(model: str) -> None:
    import server

    server.install(server=False)
    from rasa.core.agent import Agent

    from actions.understanding import resolve_intent

    agent = Agent.load(model)
    for name, folder in SETS.items():
        total_fallback = total = 0
        parts = []
        for lang, paths in sorted(holdout_files(folder).items()):
            fallback = count = 0
            for text, _ in (example for path in paths for example in load_examples(path)):
                parsed = await agent.parse_message(text)
                intent = resolve_intent(parsed["intent"]["name"], parsed.get("entities") or [],
                                        parsed.get("intent_ranking") or [], text)
                fallback += intent == "nlu_fallback"
                count += 1
            parts.append(f"{lang} {fallback}/{count} ({fallback / count:.1%})")
            total_fallback += fallback
            total += count
        print(f"{name}: not understood {total_fallback}/{total} ({total_fallback / total:.1%}); "
              + ", ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "iom.tar.gz"))
    args = parser.parse_args()
    asyncio.run(rates(args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
