"""The NumPy all-MiniLM-L6-v2 (quickconnect/nlp/sentence_encoder.py) against PyTorch's vectors.

The reference vectors were computed once with torch 2.13 + transformers from the same weights
(tests/unit/data/make_minilm_reference.py): the encoder must give the same embedding, one
message at a time and in a batch of different lengths.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from quickconnect.nlp.sentence_encoder import SentenceEncoder, shared_encoder

REFERENCE = json.loads(
    (Path(__file__).with_name("data") / "minilm_reference.json").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return shared_encoder()


def test_a_batch_gives_pytorchs_embeddings(encoder: SentenceEncoder) -> None:
    got = encoder.encode(REFERENCE["sentences"])
    expected = np.array(REFERENCE["vectors"], dtype=np.float32)
    assert got.shape == expected.shape == (len(REFERENCE["sentences"]), 384)
    assert np.abs(got - expected).max() < 1e-4
    # cosine against the reference, sentence by sentence
    assert (got * expected).sum(axis=1) == pytest.approx(1.0, abs=1e-5)


def test_one_message_at_a_time_gives_the_same_as_the_batch(encoder: SentenceEncoder) -> None:
    batch = encoder.encode(REFERENCE["sentences"])
    for sentence, row in zip(REFERENCE["sentences"], batch, strict=True):
        assert np.abs(encoder.encode([sentence])[0] - row).max() < 1e-5


def test_vectors_are_unit_length_and_meaning_is_near(encoder: SentenceEncoder) -> None:
    dead, cut_off, cancel = encoder.encode(
        [
            "my internet's been dead since yesterday",
            "my service was cut off",
            "cancel my music add-on",
        ]
    )
    assert np.linalg.norm(dead) == pytest.approx(1.0, abs=1e-5)
    assert float(dead @ cut_off) > float(dead @ cancel)


def test_an_empty_list_gives_no_rows(encoder: SentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)
