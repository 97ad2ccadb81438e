"""Zero-shot code scores from the similarity between a sentence and each code's description.

Used when a codebook has no labelled data yet, and for codes with too few labels. A code's
prototype is the mean embedding of its description and examples; a sentence's similarities are
standardised across codes (a z-score), because raw e5 cosines sit in a narrow band that differs
between sentences. The z-score is mapped to a pseudo-probability; these scores are not calibrated
and every proposal made this way is marked ``zero-shot``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..codebook import Codebook

# Measured on the demo gold transcripts (scripts/eval_demo.py): z >= 1.5 gave the best micro-F1.
Z_THRESHOLD = 1.5
Z_SCALE = 2.0


def prototype_texts(codebook: Codebook) -> list[list[str]]:
    """Per code: its label and description, then its examples."""
    return [[f"{c.label}: {c.description}", *c.examples] for c in codebook.codes]


def build_prototypes(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """Average each code's embedded texts into one unit vector; returns (k, d)."""
    protos = np.stack([np.asarray(e).mean(0) for e in embeddings])
    return protos / np.linalg.norm(protos, axis=1, keepdims=True)


def zero_shot_proba(X: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Pseudo-probabilities (n, k) that pass 0.5 exactly when the z-score passes `Z_THRESHOLD`."""
    sim = np.asarray(X) @ prototypes.T
    std = sim.std(1, keepdims=True)
    z = (sim - sim.mean(1, keepdims=True)) / np.where(std > 0, std, 1)
    return 1.0 / (1.0 + np.exp(-Z_SCALE * (z - Z_THRESHOLD)))
