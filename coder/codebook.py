"""Codebooks: codes, groups and hypotheses loaded from YAML, validated with line numbers.

A codebook is data shared by the human coder, the model (descriptions and examples seed
zero-shot proposals) and the exports. Its sha256 identifies a version in the store and in models.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CodebookError, UnknownCodeError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data" / "codebooks"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
_HYP_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    label: str
    group: str
    description: str
    colour: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    label: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Hypothesis:
    id: str
    statement: str
    evidence: tuple[str, ...]
    moderators: tuple[str, ...] = ()
    direction: str = "leave"
    stance_note: str = ""
    # Named parts of a two-sided hypothesis (H2: re-election, personal gain): support on only some is "partly".
    sides: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Codebook:
    id: str
    version: int
    title: str
    codes: tuple[Code, ...]
    groups: tuple[Group, ...]
    hypotheses: tuple[Hypothesis, ...]
    description: str = ""
    source: str = ""
    scoring: dict[str, Any] = field(default_factory=dict)
    yaml_text: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.yaml_text.encode("utf-8")).hexdigest()

    @property
    def code_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.codes)

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise UnknownCodeError(
            f"Unknown code '{code_id}'; the codebook '{self.id}' has: {', '.join(self.code_ids)}."
        )

    def group_of(self, code_id: str) -> Group:
        gid = self.code(code_id).group
        return next(g for g in self.groups if g.id == gid)

    def hypotheses_for(self, code_id: str) -> tuple[Hypothesis, ...]:
        return tuple(h for h in self.hypotheses if code_id in h.evidence)


def resolve_codebook(name_or_path: str | Path) -> Path:
    """Find a codebook by bundled name (``politisk-exit``) or by path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise CodebookError(f"Codebook file {p} does not exist; check the path.")
        return p
    bundled = BUNDLED_DIR / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    names = ", ".join(sorted(f.stem for f in BUNDLED_DIR.glob("*.yaml"))) or "none"
    raise CodebookError(
        f"No codebook named '{name_or_path}'; use a bundled one ({names}) or a path to a YAML file."
    )


def load_codebook(name_or_path: str | Path) -> Codebook:
    """Load and validate a codebook file; raise `CodebookError` listing every problem."""
    path = resolve_codebook(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise CodebookError(f"{path} is not UTF-8 text; save it as UTF-8 and try again.") from e
    return parse_codebook(text, str(path))


@functools.lru_cache(maxsize=16)
def parse_codebook(text: str, filename: str = "<codebook>") -> Codebook:
    """Parse codebook YAML text; every problem is reported as ``file:line: problem; fix``.

    Cached: the web app opens the project per request and PyYAML takes ~60 ms per parse; a
    `Codebook` is frozen, so sharing one is safe.
    """
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark else filename
        problem = getattr(e, "problem", None) or str(e)
        raise CodebookError(f"{where}: not valid YAML ({problem}); fix the indentation or quoting there.") from e
    problems = _validate(data, root, filename)
    if len(problems) == 1:  # one line, as every user error on the command line
        raise CodebookError(problems[0])
    if problems:
        raise CodebookError(f"{filename} has {len(problems)} problems:\n" + "\n".join(problems))
    return _build(data, text)


def check_codebook(name_or_path: str | Path) -> list[str]:
    """Return the codebook's problems as lines (empty when it is valid)."""
    try:
        load_codebook(name_or_path)
    except CodebookError as e:
        lines = str(e).splitlines()
        return lines[1:] if len(lines) > 1 else lines
    return []


def _line(root: Any, *keys: str | int) -> int:
    """Find the 1-based line of a node reached by keys in the composed YAML tree (best effort)."""
    node = root
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node.start_mark.line + 1 if node is not None else 1


def _validate(data: Any, root: Any, filename: str) -> list[str]:
    problems: list[str] = []

    def bad(keys: tuple[str | int, ...], msg: str) -> None:
        problems.append(f"{filename}:{_line(root, *keys)}: {msg}")

    if not isinstance(data, dict):
        return [f"{filename}:1: a codebook must be a mapping with 'id', 'codes' and 'hypotheses'; see data/codebooks/politisk-exit.yaml."]
    for key in ("id", "codes"):
        if key not in data:
            bad((), f"missing top-level '{key}'; add it (see data/codebooks/politisk-exit.yaml).")
    version = data.get("version", 1)
    if isinstance(version, bool) or not (isinstance(version, int) or str(version).strip().isdigit()):
        bad(("version",), f"'version' must be a whole number (got {version!r}); write e.g. 'version: 2'.")
    scoring = data.get("scoring")
    if scoring is not None and not isinstance(scoring, dict):
        bad(("scoring",), "'scoring' must be a mapping of rule settings, e.g. 'min_segments: 2'.")
    elif scoring:
        from .score import ScoringRules  # score imports codebook: import at call time

        try:
            ScoringRules.from_mapping(scoring)
        except CodebookError as e:
            bad(("scoring",), str(e))
    groups = data.get("groups") or []
    group_ids: set[str] = set()
    if not isinstance(groups, list):
        bad(("groups",), "'groups' must be a list of {id, label}.")
        groups = []
    for i, g in enumerate(groups):
        if not isinstance(g, dict) or "id" not in g:
            bad(("groups", i), "each group needs an 'id' and a 'label'.")
            continue
        if g["id"] in group_ids:
            bad(("groups", i, "id"), f"duplicate group id '{g['id']}'; give each group its own id.")
        group_ids.add(str(g["id"]))
    codes = data.get("codes") or []
    if not isinstance(codes, list) or not codes:
        bad(("codes",), "'codes' must be a non-empty list of codes.")
        codes = []
    seen: set[str] = set()
    for i, c in enumerate(codes):
        if not isinstance(c, dict):
            bad(("codes", i), "each code must be a mapping with id, label, group, description and colour.")
            continue
        cid = c.get("id")
        if not cid:
            bad(("codes", i), "code without 'id'; add a stable ASCII id such as 'h3.harassment'.")
            continue
        cid = str(cid)
        if not _ID.match(cid):
            bad(("codes", i, "id"), f"code id '{cid}' must be lower-case ASCII words joined by '.', e.g. 'h3.harassment'.")
        if cid in seen:
            bad(("codes", i, "id"), f"duplicate code id '{cid}'; ids must be unique (rename one, keep the other).")
        seen.add(cid)
        if not str(c.get("label") or "").strip():
            bad(("codes", i), f"code '{cid}' has no 'label'; add a short human-readable label.")
        if not str(c.get("description") or "").strip():
            bad(("codes", i), f"code '{cid}' has no 'description'; describe what the code covers in one or two sentences.")
        colour = c.get("colour")
        if colour is not None and not (isinstance(colour, str) and _COLOUR.match(colour)):
            bad(("codes", i, "colour"), f"code '{cid}' has colour '{colour}'; use a hex colour like \"#1f77b4\" (in quotes).")
        if group_ids and c.get("group") not in group_ids:
            bad(("codes", i, "group"), f"code '{cid}' names group '{c.get('group')}', which is not in 'groups'; use one of: {', '.join(sorted(group_ids))}.")
        for key in ("include", "exclude", "examples", "counter_examples"):
            v = c.get(key)
            if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                bad(("codes", i, key), f"'{key}' of code '{cid}' must be a list of strings.")
    hyps = data.get("hypotheses") or []
    hyp_ids: set[str] = set()
    if not isinstance(hyps, list):
        bad(("hypotheses",), "'hypotheses' must be a list.")
        hyps = []
    for i, h in enumerate(hyps):
        if not isinstance(h, dict) or not h.get("id"):
            bad(("hypotheses", i), "each hypothesis needs an 'id', a 'statement' and 'evidence' codes.")
            continue
        hid = str(h["id"])
        if not _HYP_ID.match(hid):
            bad(("hypotheses", i, "id"), f"hypothesis id '{hid}' must be short ASCII, e.g. 'H1'.")
        if hid in hyp_ids:
            bad(("hypotheses", i, "id"), f"duplicate hypothesis id '{hid}'; ids must be unique.")
        hyp_ids.add(hid)
        if not str(h.get("statement") or "").strip():
            bad(("hypotheses", i), f"hypothesis '{hid}' has no 'statement'; state it in one sentence.")
        if h.get("direction", "leave") not in ("leave", "retain"):
            bad(("hypotheses", i, "direction"), f"hypothesis '{hid}' has direction '{h.get('direction')}'; use 'leave' or 'retain'.")
        for key in ("evidence", "moderators"):
            refs = h.get(key) or []
            if key == "evidence" and not refs:
                bad(("hypotheses", i), f"hypothesis '{hid}' lists no 'evidence' codes; list the code ids that count for or against it.")
            if not isinstance(refs, list):
                bad(("hypotheses", i, key), f"'{key}' of hypothesis '{hid}' must be a list of code ids.")
                continue
            for j, ref in enumerate(refs):
                if ref not in seen:
                    bad(("hypotheses", i, key, j), f"hypothesis '{hid}' refers to unknown code '{ref}'; add the code or fix the id.")
        sides = h.get("sides")
        if sides is not None and not (isinstance(sides, dict) and len(sides) >= 2
                                      and all(isinstance(v, list) and v for v in sides.values())):
            bad(("hypotheses", i, "sides"), f"'sides' of hypothesis '{hid}' must map two or more side names to lists of its evidence codes.")
        elif sides:
            for name, codes in sides.items():
                stray = [c for c in codes if c not in (h.get("evidence") or [])]
                if stray:
                    bad(("hypotheses", i, "sides", name), f"side '{name}' of hypothesis '{hid}' names {', '.join(map(str, stray))}, "
                        "which is not among the hypothesis' evidence codes; list only its evidence codes.")
    return problems


def _tuple(v: Any) -> tuple[str, ...]:
    return tuple(str(x).strip() for x in v or ())


def _build(data: dict[str, Any], text: str) -> Codebook:
    palette = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5"]
    groups = tuple(
        Group(id=str(g["id"]), label=str(g.get("label") or g["id"]), description=str(g.get("description") or "").strip())
        for g in data.get("groups") or []
    )
    codes = tuple(
        Code(
            id=str(c["id"]),
            label=str(c["label"]).strip(),
            group=str(c.get("group") or "other"),
            description=str(c["description"]).strip(),
            colour=str(c.get("colour") or palette[i % len(palette)]),
            include=_tuple(c.get("include")),
            exclude=_tuple(c.get("exclude")),
            examples=_tuple(c.get("examples")),
            counter_examples=_tuple(c.get("counter_examples")),
        )
        for i, c in enumerate(data["codes"])
    )
    if not groups:  # a codebook without groups gets one group per code prefix
        prefixes = dict.fromkeys(c.group for c in codes)
        groups = tuple(Group(id=p, label=p) for p in prefixes)
    hyps = tuple(
        Hypothesis(
            id=str(h["id"]),
            statement=str(h["statement"]).strip(),
            evidence=_tuple(h.get("evidence")),
            moderators=_tuple(h.get("moderators")),
            direction=str(h.get("direction", "leave")),
            stance_note=str(h.get("stance_note") or "").strip(),
            sides=tuple((str(name), _tuple(codes)) for name, codes in (h.get("sides") or {}).items()),
        )
        for h in data.get("hypotheses") or []
    )
    return Codebook(
        id=str(data["id"]),
        version=int(data.get("version", 1)),
        title=str(data.get("title") or data["id"]),
        description=str(data.get("description") or "").strip(),
        source=str(data.get("source") or "").strip(),
        codes=codes,
        groups=groups,
        hypotheses=hyps,
        scoring=dict(data.get("scoring") or {}),
        yaml_text=text,
    )
