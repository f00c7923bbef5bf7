"""NLU evaluation on test-only data: per-intent precision, recall and F1, fallback rules.

    python -m qa.nlu_eval                          # the project set + external sets if present
    python -m qa.nlu_eval --sets project --min-accuracy 0.95 --max-in-scope-fallback 0.03

Loads the trained model in-process (no server, no HTTP API, nothing trained) and parses every
line of:
- `project`: tests/nlu/test_set.yml, written for this project and never trained on;
- `openings`: tests/nlu/openings.tsv, whole first messages of a chat as customers write them
  (problems rather than requests, greetings in front, typos), written from the spec and the
  guides by someone who had not seen data/, never trained on;
- `clean` / `loose`: ../shared/eval/external/{clean,loose}.tsv when they exist (test-only data
  from public datasets, see that folder's README).

Scoring rules (spec "Intents"):
- FAQ lines are labelled `faq/<key>`: a prediction counts when the intent is the retrieval
  intent `faq` AND the response selector picked that key.
- `out_of_scope` lines are correct when predicted `out_of_scope` or `nlu_fallback`.
- In-scope lines predicted `nlu_fallback` are errors, and their share is the in-scope
  fallback rate (target < 3%).

Writes results/eval/report.md, results/eval/confusion_<set>.png and results/eval/<set>.json.
With gate options, exits 1 when a gated figure misses its target (the CI check).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from quickconnect.config import PROJECT_ROOT

PROJECT_SET = PROJECT_ROOT / "tests" / "nlu" / "test_set.yml"
OPENINGS_SET = PROJECT_ROOT / "tests" / "nlu" / "openings.tsv"
EXTERNAL_DIR = PROJECT_ROOT.parent / "shared" / "eval" / "external"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "quickconnect.tar.gz"
DEFAULT_OUT = PROJECT_ROOT / "results" / "eval"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
RETRIEVAL_INTENT = "faq"
# Entity annotations in Rasa's YAML: [text](entity) or [text]{"entity": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """One test line and its expected label (`faq/<key>` for FAQ lines)."""

    text: str
    label: str


@dataclass
class Prediction:
    example: Example
    predicted: str  # label as scored (faq/<key>; nlu_fallback -> out_of_scope for OOS lines)
    raw: str  # what the model said (intent, faq/<key> or nlu_fallback)
    confidence: float

    @property
    def correct(self) -> bool:
        return self.predicted == self.example.label


@dataclass
class IntentScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class SetResult:
    """Scores of one test set."""

    name: str
    source: str
    lines: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    in_scope_lines: int
    in_scope_fallback_rate: float
    out_of_scope_lines: int
    out_of_scope_accuracy: float | None
    per_intent: list[IntentScore]
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------------------------


def load_rasa_yaml(path: Path) -> list[Example]:
    """Examples of a Rasa NLU YAML file (`nlu:` items with `intent:` and `examples:`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for item in data.get("nlu", []):
        if not isinstance(item, dict) or "intent" not in item:
            continue
        label = str(item["intent"]).strip()
        for line in str(item.get("examples", "")).splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            text = _ANNOTATION.sub(r"\1", line[2:].strip())
            if text:
                examples.append(Example(text, label))
    return examples


def load_tsv(path: Path) -> list[Example]:
    """Examples of a `text<TAB>intent<TAB>...` file with a header row."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Example(row["text"].strip(), row["intent"].strip())
            for row in reader
            if row.get("text") and row.get("intent")
        ]


def available_sets(
    names: Sequence[str], external_dir: Path
) -> dict[str, tuple[Path, list[Example]]]:
    """The requested sets that exist, with their examples (external files are optional)."""
    found: dict[str, tuple[Path, list[Example]]] = {}
    for name in names:
        if name == "project":
            found[name] = (PROJECT_SET, load_rasa_yaml(PROJECT_SET))
            continue
        if name == "openings":
            found[name] = (OPENINGS_SET, load_tsv(OPENINGS_SET))
            continue
        path = external_dir / f"{name}.tsv"
        if path.exists():
            found[name] = (path, load_tsv(path))
        else:
            print(f"(skipping {name}: {path} does not exist)")
    return found


# --------------------------------------------------------------------------------------------
# Scoring (pure functions, unit-tested)
# --------------------------------------------------------------------------------------------


def label_of(parse: dict[str, Any]) -> tuple[str, float]:
    """The label a parse result stands for: intent, or faq/<key> for the retrieval intent."""
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or FALLBACK)
    confidence = float(intent.get("confidence") or 0.0)
    if name == RETRIEVAL_INTENT:
        selector = (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        name = str(key) if key else intent.get("full_retrieval_intent_name") or name
    return name, confidence


def score_label(gold: str, raw: str) -> str:
    """The prediction as scored: a fallback on an out-of-scope line is the right answer."""
    if gold == OUT_OF_SCOPE and raw == FALLBACK:
        return OUT_OF_SCOPE
    return raw


def per_intent_scores(gold: Sequence[str], predicted: Sequence[str]) -> list[IntentScore]:
    """Precision, recall, F1 and support for every label that appears in `gold`."""
    true_pos: Counter[str] = Counter()
    pred_count: Counter[str] = Counter(predicted)
    gold_count: Counter[str] = Counter(gold)
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_pos[g] += 1
    scores = []
    for label in sorted(gold_count):
        tp = true_pos[label]
        precision = tp / pred_count[label] if pred_count[label] else 0.0
        recall = tp / gold_count[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(IntentScore(label, precision, recall, f1, gold_count[label]))
    return scores


def summarise(name: str, source: str, predictions: Sequence[Prediction]) -> SetResult:
    """All the figures of one set."""
    gold = [p.example.label for p in predictions]
    predicted = [p.predicted for p in predictions]
    scores = per_intent_scores(gold, predicted)
    total = len(predictions)
    in_scope = [p for p in predictions if p.example.label != OUT_OF_SCOPE]
    oos = [p for p in predictions if p.example.label == OUT_OF_SCOPE]
    fallbacks = sum(p.raw == FALLBACK for p in in_scope)
    support = sum(s.support for s in scores) or 1
    errors = [
        {
            "text": p.example.text,
            "expected": p.example.label,
            "predicted": p.raw,
            "confidence": round(p.confidence, 3),
        }
        for p in predictions
        if not p.correct
    ]
    return SetResult(
        name=name,
        source=source,
        lines=total,
        accuracy=sum(p.correct for p in predictions) / total if total else 0.0,
        macro_f1=sum(s.f1 for s in scores) / len(scores) if scores else 0.0,
        weighted_f1=sum(s.f1 * s.support for s in scores) / support,
        in_scope_lines=len(in_scope),
        in_scope_fallback_rate=fallbacks / len(in_scope) if in_scope else 0.0,
        out_of_scope_lines=len(oos),
        out_of_scope_accuracy=sum(p.correct for p in oos) / len(oos) if oos else None,
        per_intent=scores,
        errors=errors,
    )


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


class ModelParser:
    """The trained model loaded in-process; `parse(texts)` returns Rasa's parse results."""

    def __init__(self, model_path: Path) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)  # no per-message debug lines
        self.loop = asyncio.new_event_loop()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.agent = Agent.load(str(model_path))

    def parse(self, texts: Iterable[str]) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            return [await self.agent.parse_message(text) for text in texts]

        return self.loop.run_until_complete(run())

    def close(self) -> None:
        self.loop.close()


def evaluate(
    name: str, source: Path, examples: Sequence[Example], parser: ModelParser
) -> tuple[SetResult, list[Prediction]]:
    """Parse every example and score the set."""
    started = time.monotonic()
    parses = parser.parse(e.text for e in examples)
    predictions = []
    for example, parse in zip(examples, parses, strict=True):
        raw, confidence = label_of(parse)
        predictions.append(Prediction(example, score_label(example.label, raw), raw, confidence))
    result = summarise(name, _display(source), predictions)
    result.seconds = time.monotonic() - started
    return result, predictions


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT.resolve()))
    except ValueError:
        try:
            return "../" + str(path.resolve().relative_to(PROJECT_ROOT.parent.resolve()))
        except ValueError:
            return str(path)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def plot_confusion(result: SetResult, predictions: Sequence[Prediction], path: Path) -> None:
    """Confusion matrix PNG: rows = expected label, columns = predicted, row-normalised colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gold_labels = sorted({p.example.label for p in predictions})
    extra = sorted({p.predicted for p in predictions} - set(gold_labels))
    columns = gold_labels + extra
    index = {label: i for i, label in enumerate(columns)}
    counts = [[0] * len(columns) for _ in gold_labels]
    for p in predictions:
        counts[gold_labels.index(p.example.label)][index[p.predicted]] += 1
    shares = [[c / (sum(row) or 1) for c in row] for row in counts]

    size = max(6.0, 0.32 * len(columns) + 3)
    fig, ax = plt.subplots(figsize=(size + 1, max(5.0, 0.32 * len(gold_labels) + 3)))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(gold_labels)), gold_labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title(
        f"{result.name}: {result.lines} lines, accuracy {result.accuracy:.3f} "
        f"(nlu_fallback on out_of_scope counts as out_of_scope)",
        fontsize=9,
    )
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            if value:
                colour = "white" if shares[r][c] > 0.6 else "black"
                ax.text(c, r, str(value), ha="center", va="center", fontsize=6, color=colour)
    fig.colorbar(image, ax=ax, fraction=0.03, label="share of the expected label's lines")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass(frozen=True)
class Gate:
    """A target on one figure of one set, e.g. project accuracy >= 0.95."""

    set_name: str
    figure: str  # "accuracy" or "in_scope_fallback_rate"
    bound: float
    minimum: bool  # True: figure >= bound; False: figure < bound

    def check(self, result: SetResult) -> tuple[bool, str]:
        value = float(getattr(result, self.figure))
        ok = value >= self.bound if self.minimum else value < self.bound
        sign = ">=" if self.minimum else "<"
        text = f"{self.set_name} {self.figure} = {value:.3f} (target {sign} {self.bound})"
        return ok, text


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render_report(
    results: Sequence[SetResult], model: Path, gates: Sequence[Gate], max_errors: int = 25
) -> str:
    """The Markdown report: summary, targets, per-intent table and errors per set."""
    lines = [
        "# NLU evaluation",
        "",
        f"Model: `{_display(model)}` (built {_utc(model.stat().st_mtime)}). "
        f"Generated {_utc(time.time())} by `python -m qa.nlu_eval`.",
        "",
        "Scoring: FAQ lines need the `faq` intent and the right response key; `out_of_scope` "
        "lines are correct when predicted `out_of_scope` or `nlu_fallback`; an in-scope line "
        "predicted `nlu_fallback` is an error and counts towards the in-scope fallback rate.",
        "",
        "| set | source | lines | accuracy | macro F1 | weighted F1 | out-of-scope to fallback/oos "
        "| in-scope fallback | seconds |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | `{r.source}` | {r.lines} | {r.accuracy:.3f} | {r.macro_f1:.3f} "
            f"| {r.weighted_f1:.3f} | {_pct(r.out_of_scope_accuracy)} "
            f"({r.out_of_scope_lines} lines) | {_pct(r.in_scope_fallback_rate)} "
            f"({r.in_scope_lines} lines) | {r.seconds:.0f} |"
        )
    lines += ["", "## Targets", ""]
    targets = [
        ("project", "accuracy", 0.95, True),
        ("project", "in_scope_fallback_rate", 0.03, False),
        ("clean", "accuracy", 0.90, True),
        ("clean", "in_scope_fallback_rate", 0.03, False),
    ]
    by_name = {r.name: r for r in results}
    gated = {(g.set_name, g.figure) for g in gates}
    for set_name, figure, bound, minimum in targets:
        if set_name not in by_name:
            continue
        ok, text = Gate(set_name, figure, bound, minimum).check(by_name[set_name])
        enforced = " (enforced by this run)" if (set_name, figure) in gated else ""
        lines.append(f"- {'PASS' if ok else 'MISS'}: {text}{enforced}")
    for r in results:
        lines += [
            "",
            f"## {r.name}",
            "",
            f"![confusion matrix](confusion_{r.name}.png)",
            "",
            "| intent | precision | recall | F1 | support |",
            "|---|---:|---:|---:|---:|",
        ]
        for s in r.per_intent:
            lines.append(
                f"| {s.label} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | {s.support} |"
            )
        if r.errors:
            confusions = Counter((e["expected"], e["predicted"]) for e in r.errors)
            lines += ["", "Most frequent confusions (expected -> predicted):", ""]
            lines += [f"- {g} -> {p}: {n}" for (g, p), n in confusions.most_common(10)]
            lines += [
                "",
                f"Errors ({len(r.errors)}; first {min(max_errors, len(r.errors))}):",
                "",
                "| text | expected | predicted | confidence |",
                "|---|---|---|---:|",
            ]
            for e in r.errors[:max_errors]:
                text = e["text"].replace("|", "\\|")
                lines.append(
                    f"| {text} | {e['expected']} | {e['predicted']} | {e['confidence']:.2f} |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.nlu_eval",
        description="Score the trained model's intents on test-only data (trains nothing).",
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument(
        "--sets", default="project,openings,clean,loose",
        help="comma-separated: project (tests/nlu/test_set.yml), openings "
        "(tests/nlu/openings.tsv), clean, loose (external TSVs)",
    )  # fmt: skip
    parser.add_argument("--external-dir", type=Path, default=EXTERNAL_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--min-accuracy", type=float,
        help="gate: fail unless project accuracy >= this (the target is 0.95)",
    )  # fmt: skip
    parser.add_argument(
        "--max-in-scope-fallback", type=float,
        help="gate: fail unless the project in-scope fallback rate < this (target 0.03)",
    )  # fmt: skip
    parser.add_argument(
        "--min-clean-accuracy", type=float,
        help="gate: fail unless external clean accuracy >= this (target 0.90), if the file exists",
    )  # fmt: skip
    parser.add_argument(
        "--min-openings-accuracy", type=float,
        help="gate: fail unless the opening-message set's accuracy >= this (target 0.95)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    model = args.model.resolve()
    if not model.exists():
        print(f"No trained model at {model}: run `make train` first", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    sets = available_sets(names, args.external_dir)
    gates: list[Gate] = []
    if args.min_accuracy is not None:
        gates.append(Gate("project", "accuracy", args.min_accuracy, True))
    if args.max_in_scope_fallback is not None:
        gates.append(Gate("project", "in_scope_fallback_rate", args.max_in_scope_fallback, False))
    if args.min_openings_accuracy is not None:
        gates.append(Gate("openings", "accuracy", args.min_openings_accuracy, True))
    if args.min_clean_accuracy is not None and "clean" in sets:
        gates.append(Gate("clean", "accuracy", args.min_clean_accuracy, True))

    os.chdir(PROJECT_ROOT)  # the model's spaCy pipeline path is relative to the project
    logging.getLogger("rasa").setLevel(logging.WARNING)
    print(f"Loading {_display(model)} ...")
    model_parser = ModelParser(model)
    results: list[SetResult] = []
    predictions: dict[str, list[Prediction]] = {}
    try:
        for name, (path, examples) in sets.items():
            result, predictions[name] = evaluate(name, path, examples, model_parser)
            results.append(result)
            print(
                f"{name}: {result.lines} lines, accuracy {result.accuracy:.3f}, "
                f"macro F1 {result.macro_f1:.3f}, out-of-scope ok "
                f"{_pct(result.out_of_scope_accuracy)}, in-scope fallback "
                f"{_pct(result.in_scope_fallback_rate)} ({result.seconds:.0f}s)"
            )
    finally:
        model_parser.close()

    args.out.mkdir(parents=True, exist_ok=True)
    for result in results:
        plot_confusion(result, predictions[result.name], args.out / f"confusion_{result.name}.png")
        payload = asdict(result)
        (args.out / f"{result.name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (args.out / "report.md").write_text(render_report(results, model, gates))
    print(f"Report: {_display(args.out / 'report.md')}")

    failed = False
    by_name = {r.name: r for r in results}
    for gate in gates:
        if gate.set_name not in by_name:
            continue
        ok, text = gate.check(by_name[gate.set_name])
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
        failed |= not ok
    return 1 if failed else 0


def label_counts(examples: Iterable[Example]) -> dict[str, int]:
    """Lines per label (the tests check the >= 8 rule with it)."""
    counts: dict[str, int] = defaultdict(int)
    for example in examples:
        counts[example.label] += 1
    return dict(counts)


if __name__ == "__main__":
    sys.exit(main())
