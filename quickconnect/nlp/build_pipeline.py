"""Build the project's own spaCy pipeline (blank English + entity rulers) for Rasa's SpacyNLP.

    python -m quickconnect.nlp.build_pipeline [--output spacy_models/qc_en_v1]

The pipeline has no trained components and no vectors: a tokenizer with a few extra rules and
two `entity_ruler`s whose patterns come from `quickconnect.nlp.patterns` (and, through it, from
`quickconnect.catalog`). It is rebuilt from source, never downloaded, and builds in about a
second; `spacy_models/` is git-ignored.

Versioning: Rasa caches the spaCy model by *name* (SpacyNLP fingerprints only the model path),
so a changed pipeline under an old folder name would be silently ignored by cached training
runs. Whenever patterns, tokenizer rules or catalog names/aliases change:

1. bump `PIPELINE_VERSION` (the default folder becomes `spacy_models/qc_en_v<N>`),
2. point `SpacyNLP.model` in config.yml at the new folder,
3. update `PIPELINE_FINGERPRINT` to the value the unit test prints.

`tests/unit/test_spacy_pipeline.py` fails until all three are done.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.util import compile_suffix_regex

from quickconnect.nlp import patterns as qc_patterns

PIPELINE_VERSION = 2
PIPELINE_NAME = "qc_en"
# sha256 (first 16 hex digits) of everything that defines the pipeline; see module docstring.
PIPELINE_FINGERPRINT = "6fc2e5b7b66b4508"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = "spacy_models"


def model_folder_name(version: int = PIPELINE_VERSION) -> str:
    return f"{PIPELINE_NAME}_v{version}"


DEFAULT_OUTPUT = PROJECT_ROOT / MODELS_DIR / model_folder_name()
IDENTIFIER_RULER = "qc_identifier_ruler"
ENTITY_RULER = "qc_entity_ruler"


def pipeline_definition() -> dict[str, object]:
    """Everything that determines the pipeline's behaviour, as plain JSON-able data."""
    return {
        "token_match": qc_patterns.TOKEN_MATCH_RE,
        "extra_suffixes": list(qc_patterns.EXTRA_SUFFIXES),
        IDENTIFIER_RULER: qc_patterns.build_identifier_patterns(),
        ENTITY_RULER: qc_patterns.build_entity_patterns(),
        "spacy": spacy.about.__version__.rsplit(".", 1)[0],
    }


def compute_fingerprint() -> str:
    blob = json.dumps(pipeline_definition(), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _customize_tokenizer(nlp: Language) -> None:
    tokenizer = nlp.tokenizer
    tokenizer.token_match = qc_patterns.token_match_regex().match
    suffixes = list(nlp.Defaults.suffixes or []) + list(qc_patterns.EXTRA_SUFFIXES)
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search


def create_nlp() -> Language:
    """The in-memory pipeline (what `build` saves)."""
    nlp = spacy.blank("en")
    _customize_tokenizer(nlp)
    identifier_ruler = nlp.add_pipe(
        "entity_ruler",
        name=IDENTIFIER_RULER,
        config={"overwrite_ents": True, "validate": True},
    )
    identifier_ruler.add_patterns(qc_patterns.build_identifier_patterns())
    entity_ruler = nlp.add_pipe(
        "entity_ruler",
        name=ENTITY_RULER,
        # never overwrite identifiers/emails/phone numbers found by the first ruler
        config={"overwrite_ents": False, "phrase_matcher_attr": "LOWER", "validate": True},
    )
    entity_ruler.add_patterns(qc_patterns.build_entity_patterns())
    nlp.meta.update(
        {
            "name": PIPELINE_NAME,
            "version": f"{PIPELINE_VERSION}.0.0",
            "description": (
                "QuickConnect rule-based entity pipeline (blank en + entity rulers), "
                "built by quickconnect.nlp.build_pipeline"
            ),
            "author": "QuickConnect",
            "license": "proprietary",
            "qc_entity_labels": list(qc_patterns.ENTITY_LABELS),
            "qc_guard_label": qc_patterns.GUARD_LABEL,
            "qc_fingerprint": compute_fingerprint(),
        }
    )
    return nlp


def build(output_dir: Path = DEFAULT_OUTPUT) -> Path:
    """Build the pipeline into `output_dir` (replacing an earlier build there) and return it."""
    output_dir = Path(output_dir)
    if output_dir.exists():
        is_pipeline = (output_dir / "config.cfg").is_file() and (output_dir / "meta.json").is_file()
        if any(output_dir.iterdir()) and not is_pipeline:
            raise FileExistsError(
                f"{output_dir} exists and is not a spaCy pipeline folder; refusing to replace it"
            )
        shutil.rmtree(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    create_nlp().to_disk(output_dir)
    return output_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"target folder (default: {MODELS_DIR}/{model_folder_name()})",
    )
    args = parser.parse_args(argv)
    path = build(args.output)
    print(f"built spaCy pipeline {model_folder_name()} ({compute_fingerprint()}) in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
