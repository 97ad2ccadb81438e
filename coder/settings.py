"""Where coder keeps its per-user files; each path can be moved with an environment variable.

Tests point `CODER_HOME` at a tmp folder so that nothing touches the real home directory
(the `LLM_USER_PATH` pattern from simonw/llm).
"""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """Return coder's per-user data folder: `$CODER_HOME`, else platformdirs' user data dir."""
    if env := os.environ.get("CODER_HOME"):
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("coder"))


def cache_dir() -> Path:
    """Return the folder for files coder can rebuild at any time (safe to delete)."""
    return data_home() / "cache"


def e5_cache_dir() -> Path:
    """Return the folder for the rebuilt multilingual-e5-small: `$CODER_E5_CACHE`, else in the cache."""
    if env := os.environ.get("CODER_E5_CACHE"):
        return Path(env).expanduser()
    return cache_dir() / "multilingual-e5-small-q4"


def bf16_choice() -> bool | None:
    """Return `$CODER_BF16` as a choice (1/true/yes or 0/false/no), or None to let the CPU decide."""
    env = os.environ.get("CODER_BF16", "").strip().lower()
    if env in {"1", "true", "yes", "on"}:
        return True
    if env in {"0", "false", "no", "off"}:
        return False
    return None
