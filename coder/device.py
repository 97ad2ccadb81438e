"""Where the encoder runs: a CUDA GPU when there is one, else the CPU.

`--device auto` (the default) picks CUDA when `torch.cuda.is_available()`. On a GPU the matrix
products run under bfloat16 autocast (float16 where the GPU lacks bfloat16) and batches are
capped by padded tokens, the encoder's wide-batch setting; LayerNorm, pooling and the head stay
float32, so proposals agree with the CPU to 1e-3 (tests/test_scale.py, skipped without a GPU).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import EngineError

if TYPE_CHECKING:
    from .classify.model import CodeModel

DEVICES = ("auto", "cpu", "cuda")


def check_device(device: str) -> None:
    if device not in DEVICES:
        raise EngineError(f"Unknown device '{device}'; use auto, cpu or cuda.")


def resolve_device(device: str) -> str:
    """Turn ``auto``/``cpu``/``cuda`` into the device this process can use: ``cpu`` or ``cuda``."""
    check_device(device)
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise EngineError("--device cuda needs a CUDA GPU and torch sees none here; use --device auto or --device cpu.")
    return "cpu"


def place_model(model: CodeModel, device: str) -> str:
    """Move the model's transformer encoder to ``device`` (auto/cpu/cuda) and return where it runs.

    A tf-idf model has no torch model and always runs on the CPU, without importing torch.
    """
    enc = model.get_encoder()
    load = getattr(enc, "load", None)
    if load is None:
        return "cpu"
    resolved = resolve_device(device)
    if resolved == "cpu":
        return "cpu"
    if getattr(enc, "int8", False):
        raise EngineError(f"The model '{model.id}' uses the int8 encoder, which runs only on a CPU; use --device cpu.")
    torch_model, _ = load()
    torch_model.to(resolved)
    enc.bf16 = True  # the encoder's wide, token-capped batches (BF16_BATCH) suit a GPU
    return resolved


@contextlib.contextmanager
def autocast(device: str) -> Iterator[None]:
    """Half-precision matrix products on a GPU; nothing changes on the CPU."""
    if device != "cuda":
        yield
        return
    import torch

    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    with torch.autocast("cuda", dtype=dtype):
        yield
