"""How QualCoder shows a codebook's colours after a REFI-QDA import, and distinct colours that survive it.

QualCoder replaces every imported code colour by the nearest of its 120 palette colours (mean
absolute difference of R, G and B; `color_matcher` in src/qualcoder/color_selector.py), so two
close colours can end up the same. This reads the palette from a QualCoder checkout (nothing of
QualCoder is copied into coder) and prints, per code: its colour, the colour QualCoder will show,
the difference, and the nearest palette colour no earlier code has taken, which survives the
round trip exactly and stays distinct.

    .venv/bin/python scripts/qualcoder_colours.py PATH/TO/QualCoder [politisk-exit]
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.codebook import load_codebook  # noqa: E402


def palette(qualcoder: Path) -> list[str]:
    tree = ast.parse((qualcoder / "src" / "qualcoder" / "color_selector.py").read_text(encoding="utf-8"))
    return next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "colors")


def difference(a: str, b: str) -> float:
    return sum(abs(int(a[i : i + 2], 16) - int(b[i : i + 2], 16)) for i in (1, 3, 5)) / 3


def main() -> None:
    colours = palette(Path(sys.argv[1]))
    book = load_codebook(sys.argv[2] if len(sys.argv) > 2 else "politisk-exit")
    shown = {c.id: min(colours, key=lambda p: difference(p, c.colour)) for c in book.codes}  # first minimum, as QualCoder
    same = Counter(shown.values())
    taken: set[str] = set()
    print(f"{'code':<22}{'colour':<10}{'QualCoder':<11}{'diff':>5}  distinct choice")
    for c in book.codes:
        choice = min((p for p in colours if p not in taken), key=lambda p: difference(p, c.colour))
        taken.add(choice)
        clash = "  (shared)" if same[shown[c.id]] > 1 else ""
        print(f"{c.id:<22}{c.colour:<10}{shown[c.id]:<11}{difference(shown[c.id], c.colour):>5.1f}  {choice}{clash}")
    print(f"{sum(shown[c.id].lower() != c.colour.lower() for c in book.codes)} of {len(book.codes)} colours change; "
          f"{sum(n for n in same.values() if n > 1)} codes share a colour with another.")


if __name__ == "__main__":
    main()
