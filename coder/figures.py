"""Matplotlib figures as base64 PNGs, so every HTML report stays one self-contained file."""

from __future__ import annotations

import base64
import html
import io
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed, safe in threads and CI).

    Labels are names and codes from the user's data, never formulas: with mathtext on, an informant
    called "$x" or "a$b$c" crashed the report (issue 15.13).
    """
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


def png(fig: Any, dpi: int = 100) -> str:
    """Render a matplotlib figure as a base64 PNG for an <img> data URL, and close it."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def label_counts(ax: Any, counts: Any, dark: Any) -> None:
    """Write each non-zero count in its heatmap cell, white where ``dark`` says the cell is dark."""
    for r, c in zip(*counts.nonzero()):
        ax.text(c, r, int(counts[r, c]), ha="center", va="center", fontsize=7, color="white" if dark[r, c] else "black")


def img_tag(alt: str, b64: str) -> str:
    """A base64 PNG as an <img> of a self-contained page; ``alt`` is escaped."""
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{b64}'>"


def heading(level: int, text: str) -> str:
    """A heading of a self-contained page; ``text`` is escaped."""
    return f"<h{level}>{html.escape(text)}</h{level}>"
