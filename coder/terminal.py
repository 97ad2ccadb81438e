"""`coder review`: the review loop in a terminal, for SSH sessions (an edge module like `web/`).

Line based: type the keys of the codes to toggle, then Enter; Enter alone accepts the selection
(the pre-selected proposals at first). The keys are those of the web app: 1-9 then q w e r t y ...
toggle codes, ``-`` flips the stance of the last toggled code, ``x`` no code, ``s`` skip, ``u`` undo,
``?`` codebook, ``!`` quit. Each decision is saved before the next item is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import CoderError
from .project import Project
from .web.app import KEYS

BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"


@dataclass
class Selection:
    codes: dict[str, str] = field(default_factory=dict)
    last: str | None = None


def apply_keys(line: str, selection: Selection, key_map: dict[str, str]) -> str:
    """Apply a typed line to the selection; return the action: accept, none, skip, undo, help or quit."""
    line = line.strip()
    commands = {"x": "none", "s": "skip", "u": "undo", "?": "help", "!": "quit"}
    if line in commands:
        return commands[line]
    for ch in line:
        if ch == "-":
            target = selection.last if selection.last in selection.codes else next(reversed(selection.codes), None)
            if target:
                selection.codes[target] = "contradicts" if selection.codes[target] == "supports" else "supports"
        elif ch in key_map:
            code = key_map[ch]
            if code in selection.codes:
                del selection.codes[code]
            else:
                selection.codes[code] = "supports"
            selection.last = code
        elif not ch.isspace():
            raise CoderError(f"Unknown key '{ch}'; type ? for the codes.")
    return "accept"


def review_loop(project: Project, coder: str, strategy: str, *, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> int:
    """Run the loop until the queue is empty or the reviewer quits; return the number of decisions."""
    book = project.codebook
    key_map = {KEYS[i]: c.id for i, c in enumerate(book.codes) if i < len(KEYS)}
    keys_of = {c: k for k, c in key_map.items()}
    skipped: set[int] = set()
    done = 0
    while True:
        queue = [i for i in project.review_queue(coder, strategy) if i not in skipped]
        if not queue:
            write("Nothing left in this queue.")
            return done
        item = project.review_item(queue[0], coder, strategy=strategy, lang="en")  # the terminal speaks English
        sel = Selection({c: "supports" for c in item.preselected})
        p = project.progress(coder)
        write(f"\n{DIM}{item.document} · {item.speaker} · sentence {item.index + 1}/{item.total} · {p['reviewed']}/{p['total']} reviewed{RESET}")
        if item.question:
            write(f"{DIM}I: {item.question}{RESET}")
        a, b = item.start - item.turn_start, item.end - item.turn_start
        write(f"{item.turn_text[:a]}{BOLD}{item.turn_text[a:b]}{RESET}{item.turn_text[b:]}")
        if item.reason:
            write(f"{DIM}why: {item.reason}{RESET}")
        while True:
            shown = "  ".join(
                f"[{keys_of[c.id]}]{'*' if c.id in sel.codes else ' '}{c.label}{'(-)' if sel.codes.get(c.id) == 'contradicts' else ''}"
                f" {item.proposals.get(c.id, 0):.2f}" for c in book.codes
            )
            write(shown)
            try:
                action = apply_keys(read("keys, Enter to accept > "), sel, key_map)
            except CoderError as e:
                write(str(e))
                continue
            except EOFError:
                return done
            if action == "help":
                for c in book.codes:
                    write(f"[{keys_of[c.id]}] {c.label} ({c.id}): {c.description}")
                continue
            break
        if action == "quit":
            return done
        if action == "skip":
            skipped.add(item.sentence_id)
        elif action == "undo":
            sid = project.undo(coder)
            write("Undid the last decision." if sid else "Nothing to undo.")
        else:
            project.decide(item.sentence_id, coder, {} if action == "none" else sel.codes, token=item.token)
            done += 1
