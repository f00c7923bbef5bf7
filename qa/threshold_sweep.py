"""Choose the FallbackClassifier thresholds in config.yml on a development set.

`python -m qa.threshold_sweep` parses `tests/nlu/dev_set.yml` (written apart from the
training data and from the test sets, never trained on) once with the trained model and
replays the fallback decision for several (threshold, ambiguity_threshold) pairs from the
classifier's raw intent ranking, so no retraining is needed. The test sets are not used
here: they only score the choice afterwards (`make eval`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.nlu_eval import (
    DEFAULT_MODEL,
    FALLBACK,
    OUT_OF_SCOPE,
    RETRIEVAL_INTENT,
    Example,
    ModelParser,
    load_rasa_yaml,
)
from quickconnect.config import PROJECT_ROOT

DEV_SET = PROJECT_ROOT / "tests" / "nlu" / "dev_set.yml"
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
AMBIGUITIES = (0.0, 0.05, 0.1)


@dataclass(frozen=True)
class Ranked:
    """What the classifier said about one line before the fallback decision."""

    example: Example
    top: str  # intent, or faq/<key>
    top_confidence: float
    second_confidence: float


@dataclass(frozen=True)
class SweepRow:
    threshold: float
    ambiguity: float
    in_scope_accuracy: float
    in_scope_fallback: float
    out_of_scope_caught: float


def rank(example: Example, parse: dict[str, Any]) -> Ranked:
    """The top two raw intents (the fallback's own entry left out)."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK]
    top = str(ranking[0]["name"]) if ranking else FALLBACK
    if top == RETRIEVAL_INTENT:
        selector = (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        top = str(key) if key else top
    first = float(ranking[0]["confidence"]) if ranking else 0.0
    second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
    return Ranked(example, top, first, second)


def replay(lines: Sequence[Ranked], threshold: float, ambiguity: float) -> SweepRow:
    """Scores if the fallback used these thresholds."""
    in_scope = [r for r in lines if r.example.label != OUT_OF_SCOPE]
    oos = [r for r in lines if r.example.label == OUT_OF_SCOPE]

    def falls_back(r: Ranked) -> bool:
        return r.top_confidence < threshold or r.top_confidence - r.second_confidence < ambiguity

    correct = sum(1 for r in in_scope if not falls_back(r) and r.top == r.example.label)
    fell = sum(1 for r in in_scope if falls_back(r))
    caught = sum(1 for r in oos if falls_back(r) or r.top == OUT_OF_SCOPE)
    return SweepRow(
        threshold,
        ambiguity,
        correct / len(in_scope) if in_scope else 0.0,
        fell / len(in_scope) if in_scope else 0.0,
        caught / len(oos) if oos else 0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    args = parser.parse_args(argv)
    examples = load_rasa_yaml(args.dev_set)
    model = ModelParser(args.model)
    try:
        parses = model.parse(e.text for e in examples)
    finally:
        model.close()
    lines = [rank(e, p) for e, p in zip(examples, parses, strict=True)]
    print(f"{len(lines)} dev lines ({sum(e.label == OUT_OF_SCOPE for e in examples)} out of scope)")
    print("threshold ambiguity  in-scope-acc  in-scope-fallback  oos-caught")
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            row = replay(lines, threshold, ambiguity)
            print(
                f"{row.threshold:9.2f} {row.ambiguity:9.2f}  {row.in_scope_accuracy:12.3f}"
                f"  {row.in_scope_fallback:17.3f}  {row.out_of_scope_caught:10.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
