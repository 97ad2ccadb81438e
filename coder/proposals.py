"""Which of a model's scores count as proposals: the one reading of its stored thresholds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

DEFAULT_THRESHOLD = 0.5  # a code the model lists no threshold for


def model_thresholds(row: Mapping[str, Any] | None) -> dict[str, float]:
    """Per-code thresholds of a registered model row (empty without a model)."""
    return json.loads(row["params"]).get("thresholds", {}) if row else {}


def threshold_of(thresholds: Mapping[str, float], code: str) -> float:
    return thresholds.get(code, DEFAULT_THRESHOLD)


def proposed(scores: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """The codes whose score reaches their threshold, in the order of ``scores``."""
    return [c for c, p in scores.items() if p >= threshold_of(thresholds, c)]
