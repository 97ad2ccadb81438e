"""Mean-pooled transformer encoders: the rebuilt e5 and any Hugging Face encoder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelNotFoundError
from ..settings import bf16_choice

# Sentences in interviews are short; 256 tokens keeps the rare run-on sentence without paying
# for 512-wide attention on every batch.
MAX_LENGTH = 256
# Batch shapes measured on 2 cores (scripts/bench_precode.py): fp32 is fastest at about 32 rows;
# bfloat16 on AMX tiles wants wide batches, capped by padded tokens so long sentences stay cheap.
FP32_BATCH = (32, None)
BF16_BATCH = (256, 4096)


class TransformerEncoder:
    """Load weights lazily from a folder or hub id; encode with length bucketing."""

    trainable = False

    def __init__(
        self, name: str, source: str | Path, *, passage_prefix: str = "", query_prefix: str = "", int8: bool = False
    ):
        self.name = name
        self.int8 = int8
        self.source = source
        self.passage_prefix = passage_prefix
        self.query_prefix = query_prefix
        self._model: Any = None
        self._tokenizer: Any = None
        self.bf16 = False
        # Interviews repeat short sentences ("Ja.", "Nej, nej.") and cross-validation re-encodes
        # the same texts per fold: memoise vectors by (prefix, text).
        self._memo: dict[tuple[str, str], np.ndarray] = {}

    @classmethod
    def e5(cls, *, int8: bool = False) -> TransformerEncoder:
        # e5 was trained with these prefixes; without them its embeddings are measurably worse.
        name = "e5-small-int8.v1" if int8 else "e5-small.v1"
        return cls(name, "", passage_prefix="passage: ", query_prefix="query: ", int8=int8)

    def load(self) -> tuple[Any, Any]:
        """Return (model, tokenizer), loading them on first use."""
        if self._model is None:
            import torch

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            if self.name.startswith("e5-small"):
                from .e5_build import load_e5

                self._model, self._tokenizer = load_e5()
            else:
                self._model, self._tokenizer = _load_hf(str(self.source))
            if self.int8:
                self._model = _quantize(self._model)
            self.bf16 = not self.int8 and use_bf16()
        return self._model, self._tokenizer

    def with_model(self, model: Any) -> TransformerEncoder:
        """A new encoder with the same tokenizer and prefixes around another (fine-tuned) model."""
        _, tokenizer = self.load()
        other = TransformerEncoder(self.name, self.source, passage_prefix=self.passage_prefix, query_prefix=self.query_prefix)
        other._model, other._tokenizer, other.bf16 = model, tokenizer, self.bf16
        return other

    def encode(self, texts: Sequence[str], *, query: bool = False, progress: bool = False) -> np.ndarray:
        prefix = self.query_prefix if query else self.passage_prefix
        todo = list(dict.fromkeys(t for t in texts if (prefix, t) not in self._memo))
        if todo:
            for t, v in zip(todo, self._embed(todo, prefix, progress)):
                self._memo[(prefix, t)] = v
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._memo[(prefix, t)] for t in texts])

    @property
    def dim(self) -> int:
        return int(self.load()[0].config.hidden_size)

    def _embed(self, texts: list[str], prefix: str, progress: bool) -> np.ndarray:
        from tqdm.auto import tqdm

        from .e5_build import embed

        model, tokenizer = self.load()
        chunk = 2048  # progress in chunks; each chunk is length-bucketed inside `embed`
        parts = []
        with tqdm(total=len(texts), desc="encoding sentences", unit="sent", disable=not progress, leave=False) as bar:
            for i in range(0, len(texts), chunk):
                parts.append(self._embed_chunk(model, tokenizer, texts[i : i + chunk], prefix, embed))
                bar.update(len(parts[-1]))
        return np.vstack(parts)

    def _embed_chunk(self, model: Any, tokenizer: Any, texts: list[str], prefix: str, embed: Any) -> np.ndarray:
        import torch

        batch, tokens = BF16_BATCH if self.bf16 else FP32_BATCH
        while True:
            try:
                # Weights stay fp32; autocast runs the matrix products in bfloat16 (cosine to
                # fp32 above 0.9999 on the demo sentences) and keeps LayerNorm and pooling in fp32.
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                    return embed(model, tokenizer, texts, prefix=prefix, batch_size=batch, batch_tokens=tokens,
                                 max_length=self._max_length(model))
            except (MemoryError, RuntimeError) as e:
                # Out of memory on a huge batch: halve and retry (a RuntimeError that is not
                # about memory is a bug and is re-raised).
                if batch == 1 or not isinstance(e, MemoryError) and "memory" not in str(e).lower():
                    raise
                batch, tokens = batch // 2, None if tokens is None else max(tokens // 2, 1)

    @staticmethod
    def _max_length(model: Any) -> int:
        return int(min(MAX_LENGTH, getattr(model.config, "max_position_embeddings", MAX_LENGTH)))


def use_bf16() -> bool:
    """Encode in bfloat16 where the CPU multiplies it in hardware (AMX); `CODER_BF16=0/1` decides instead.

    On AMX the encoder runs about twice as fast with embeddings equal to fp32 up to cosine 0.9999
    (scripts/bench_precode.py). Without AMX, bfloat16 matrix products are emulated or run on narrower
    units and a gain is not established (no such CPU was at hand to measure), so fp32 stays the default.
    """
    import torch

    choice = bf16_choice()
    if choice is not None:
        return choice
    return bool(getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


def _quantize(model: Any) -> Any:
    """Dynamic int8 quantisation of the Linear layers: about 2x faster on a CPU (scripts/bench_precode.py)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks the eager API deprecated in favour of torchao
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _load_hf(source: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source)
    except (OSError, ValueError) as e:
        where = "folder" if Path(source).exists() else "hub id (needs internet, or a local copy)"
        raise ModelNotFoundError(
            f"Cannot load the encoder '{source}' as a Hugging Face {where} ({str(e).splitlines()[0]}); "
            "pass a folder that holds config.json, the weights and the tokenizer."
        ) from e
    model.eval()
    return model, tokenizer
