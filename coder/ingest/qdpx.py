"""REFI-QDA project import (.qdpx): text sources, cases, users, codings and their stance.

Real tools deviate from the QDA-XML 1.0 schema (QualCoder puts a PDFSelection after a PDF's
Representation), so a schema deviation is a warning with its line; a file is refused only when a
part coder reads is broken (a selection without numeric offsets, a missing or non-UTF-8 source
text), and then the message names the line in project.qde. What coder does not read (picture,
PDF, audio and video sources and their codings, notes, annotations, coding memos, sets, links) is
counted in ``skipped``, never dropped silently; project notes that hold coder's own researcher
verdicts (`coder.verdict_notes`) are read back into ``verdicts``.

Offsets: text is stored with LF line endings. A source text with Windows line endings (CRLF) is
read both ways (CRLF as one character, as QualCoder counts, or as two) and the convention under
which every selection's text equals its ``name`` (the selected text, as QualCoder writes it) wins;
when neither does, the file is refused.

Stance: the selection's Description (QualCoder's coding memo) carries it, as coder writes it
(``"h3.family: contradicts"``, parts joined by ``;``) or as a bare stance word for all codings of
the selection (``contradicts``, ``modsiger``; see `coder.stance`). One unknown word after a code
is refused; any other Description is a coding memo: counted as skipped, the coding supports.
"""

from __future__ import annotations

import re
import zipfile
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..stance import is_stance, parse_stance
from ..verdict_notes import NoteVerdict, parse_note
from .decode import normalise_newlines
from .zipguard import read_member

NS = "{urn:QDA-XML:project:1.0}"
XSD = Path(__file__).resolve().parent.parent.parent / "data" / "refi-qda" / "Project.xsd"
_OTHER_SOURCES = {"PictureSource": "picture", "PDFSource": "PDF", "AudioSource": "audio", "VideoSource": "video"}
_OTHER_CODINGS = {"picture": "picture area codings", "PDF": "PDF area codings", "audio": "audio codings", "video": "video codings"}


@dataclass(frozen=True, slots=True)
class QdpxCoding:
    source: str  # source name
    start: int  # offsets into the LF text of the source
    end: int
    code_id: str | None  # a coder code id when the description carries one ("[h3.harassment] ...")
    code_name: str
    user: str
    stance: str | None  # None: not given (supports)
    line: int  # line of the Coding in project.qde


@dataclass
class QdpxProject:
    sources: dict[str, str] = field(default_factory=dict)  # name -> text with LF line endings
    cases: dict[str, tuple[str | None, dict[str, str]]] = field(default_factory=dict)  # source name -> (case, variables)
    codings: list[QdpxCoding] = field(default_factory=list)
    verdicts: list[NoteVerdict] = field(default_factory=list)  # researcher verdicts from coder's project notes
    warnings: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # what coder does not import -> count

    def skipped_kinds(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items()))

    def skipped_summary(self, path: Path) -> list[str]:
        """One line counting every skipped kind, or none."""
        return [f"{path.name}: not imported (coder reads text sources, their codings and cases): {self.skipped_kinds()}"] if self.skipped else []


def read_qdpx(path: Path) -> QdpxProject:
    """Read a .qdpx; raise `InputFileError` when a part coder needs is missing or broken."""
    from lxml import etree

    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputFileError(f"{path.name} is not a .qdpx file (not a ZIP archive); export the project again from your QDA tool.") from e
    with z:
        members = {n.lower(): n for n in z.namelist()}  # NVivo writes Sources/, QualCoder sources/
        if "project.qde" not in members:
            raise InputFileError(f"{path.name} has no project.qde inside; it is not a REFI-QDA project.")
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            root = etree.fromstring(read_member(z, members["project.qde"], path), parser)
        except etree.XMLSyntaxError as e:
            raise InputFileError(f"{path.name}: project.qde is not well-formed XML (line {e.lineno}); export the project again.") from e
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        if etree.QName(root).localname != "Project" or not ns.startswith("{urn:QDA-XML:project:"):
            raise InputFileError(f"{path.name}: project.qde is not a REFI-QDA project (its root is <{etree.QName(root).localname}>).")
        project = QdpxProject(warnings=_schema_deviations(root, path))
        reader = _Reader(path, z, members, ns, root, project)
        reader.read()
    return project


def _schema_deviations(root: Any, path: Path) -> list[str]:
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(XSD)))
    if schema.validate(root.getroottree()):
        return []
    errors = list(schema.error_log)
    first = "; ".join(f"line {e.line}: {e.message}" for e in errors[:3])
    return [f"{path.name}: project.qde deviates from the REFI-QDA schema in {len(errors)} place(s) ({first}); "
            "coder reads the parts it uses and checks them itself"]


class _Reader:
    """One pass over project.qde; keeps the lookups that sources and codings refer to."""

    def __init__(self, path: Path, z: zipfile.ZipFile, members: dict[str, str], ns: str, root: Any, project: QdpxProject):
        self.path, self.z, self.members, self.ns, self.root, self.project = path, z, members, ns, root, project

    def at(self, el: Any) -> str:
        return f"{self.path.name}, project.qde line {el.sourceline}"

    def all(self, el: Any, *tags: str) -> list[Any]:
        """Descendants of ``el`` along the path of tags (direct children at each step)."""
        found = [el]
        for tag in tags:
            found = [c for f in found for c in f.findall(f"{self.ns}{tag}")]
        return found

    def read(self) -> None:
        root, skipped = self.root, self.project.skipped
        self.users = {u.get("guid"): u.get("name") or u.get("guid") for u in root.iter(f"{self.ns}User")}
        self.codes = self._codes()
        self.case_guids = {c.get("guid") for c in root.iter(f"{self.ns}Case")}
        source_names: dict[str, str] = {}
        for el in (c for s in self.all(root, "Sources") for c in s if isinstance(c.tag, str)):
            tag = el.tag.removeprefix(self.ns)
            if tag == "TextSource":
                source_names[el.get("guid")] = self._text_source(el)
            else:
                self._other_source(el, _OTHER_SOURCES.get(tag, tag))
        for note in self.all(root, "Notes", "Note"):
            verdict = parse_note(note.get("name") or "", note.findtext(f"{self.ns}PlainTextContent") or "")
            if verdict:
                self.project.verdicts.append(verdict)
            else:
                skipped["notes and annotations (Notes)"] += 1
        for kind, tags in (("sets", ("Sets", "Set")),
                           ("links", ("Links", "Link")), ("graphs", ("Graphs", "Graph"))):
            skipped[kind] += len(self.all(root, *tags))
        self._cases(source_names)
        self.project.skipped = +skipped  # drop zero counts

    def _codes(self) -> dict[str, tuple[str, str | None]]:
        codes: dict[str, tuple[str, str | None]] = {}
        for c in self.root.iter(f"{self.ns}Code"):
            g = c.get("guid")
            if g in codes:
                raise InputFileError(f"{self.at(c)}: the GUID {g} is used by two codes; fix the project in your QDA tool.")
            desc = c.findtext(f"{self.ns}Description") or ""
            code_id = desc[1 : desc.index("]")] if desc.startswith("[") and "]" in desc else None
            codes[g] = (c.get("name") or g, code_id)
        return codes

    def _other_source(self, el: Any, kind: str) -> None:
        skipped = self.project.skipped
        skipped[f"{kind} sources"] += 1
        text_codings = len(self.all(el, "Representation", "PlainTextSelection", "Coding"))
        skipped[f"{kind} text codings"] += text_codings
        skipped[_OTHER_CODINGS.get(kind, f"{kind} codings")] += len(list(el.iter(f"{self.ns}Coding"))) - text_codings

    def _source_text(self, el: Any, name: str) -> str:
        content = el.findtext(f"{self.ns}PlainTextContent")
        if content is not None:
            return content
        ref = el.get("plainTextPath") or ""
        member = self.members.get(("sources/" + ref.removeprefix("internal://")).lower())
        if not ref.startswith("internal://") or member is None:
            raise InputFileError(f"{self.at(el)}: the text of source '{name}' ({ref or 'no plainTextPath'}) is missing from the archive; "
                                 "export the project again with its sources.")
        data = read_member(self.z, member, self.path)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise InputFileError(f"{self.path.name}: the text of source '{name}' ({member}) is not UTF-8 (byte 0x{data[e.start]:02x} "
                                 f"at offset {e.start}), as REFI-QDA requires; export the project again from your QDA tool.") from None

    def _text_source(self, el: Any) -> str:
        project, skipped = self.project, self.project.skipped
        name = el.get("name") or el.get("guid")
        if name in project.sources:
            raise InputFileError(f"{self.at(el)}: two sources are called '{name}'; rename one in your QDA tool.")
        raw = self._source_text(el, name)
        selections = []
        for sel in self.all(el, "PlainTextSelection"):
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                raise InputFileError(f"{self.at(sel)}: a selection of source '{name}' has no whole-number "
                                     "startPosition and endPosition; fix it in your QDA tool.") from None
            if not sel.findall(f"{self.ns}Coding"):
                skipped["selections without a code (annotations)"] += 1
                continue
            selections.append((sel, start, end))
        skipped["codings of a whole source"] += len(self.all(el, "Coding"))
        project.sources[name] = text = normalise_newlines(raw)
        to_lf = self._convention(name, raw, text, selections)
        outside = []
        for sel, start, end in selections:
            if 0 <= to_lf(start) < to_lf(end) <= len(text):
                self._codings(name, sel, to_lf(start), to_lf(end))
            else:
                outside.append(sel.sourceline)
        if outside:
            project.warnings.append(f"{len(outside)} selection(s) of source '{name}' lie outside its text "
                                    f"(first at project.qde line {outside[0]}); skipped")
        return name

    def _convention(self, name: str, raw: str, text: str, selections: list[tuple[Any, int, int]]) -> Callable[[int], int]:
        """The offset map (raw offset -> offset in the LF text) under which selections match their names."""
        crlf = [m.start() for m in re.finditer("\r\n", raw)]
        ways: dict[str, tuple[Callable[[int], int], str]] = {"one character": (lambda i: i, text)}
        if crlf:
            ways["two characters"] = (lambda i: i - bisect_left(crlf, i), raw)
        named = [(sel, s, e, _squash(sel.get("name"))) for sel, s, e in selections if (sel.get("name") or "").strip()]
        misses = {}
        for way, (_, counted) in ways.items():
            misses[way] = [sel for sel, s, e, n in named if 0 <= s < e <= len(counted) and not _matches(counted[s:e], n)]
            if not misses[way]:
                if crlf:
                    self.project.warnings.append(
                        f"source '{name}' has Windows line endings (CRLF), stored as LF; its selection offsets count CRLF as {way}"
                        + (f" (checked on {len(named)} selection texts)" if named else " (no selection texts to check; QualCoder's convention)"))
                return ways[way][0]
        first = min((m[0] for m in misses.values()), key=lambda sel: sel.sourceline)
        how = " whether a Windows line ending (CRLF) counts as one character or two" if crlf else ""
        raise InputFileError(
            f"{self.path.name}: the selections of source '{name}' do not point at their own text{how} "
            f"({min(len(m) for m in misses.values())} of {len(named)} differ, first at project.qde line {first.sourceline}); "
            "the offsets cannot be trusted, export the project again from your QDA tool."
        )

    def _codings(self, source: str, sel: Any, start: int, end: int) -> None:
        refs = []
        for coding in sel.findall(f"{self.ns}Coding"):
            ref = coding.find(f"{self.ns}CodeRef")
            refs.append((coding, ref.get("targetGUID") if ref is not None else None))
        keys = {k for _, ref in refs for k in self.codes.get(ref, ("", None)) if k}
        per_code, bare = self._stances(sel, keys)
        for coding, ref in refs:
            if ref in self.case_guids:
                self.project.skipped["case codings (case membership of text)"] += 1
                continue
            name, code_id = self.codes.get(ref, (ref or "no code", None))
            user = self.users.get(coding.get("creatingUser") or sel.get("creatingUser"), "unknown")
            stance = per_code.get(code_id) or per_code.get(name) or bare
            self.project.codings.append(QdpxCoding(source, start, end, code_id, name, user, stance, coding.sourceline))

    def _stances(self, sel: Any, keys: set[str]) -> tuple[dict[str, str | None], str | None]:
        """(code id or name -> stance, stance for every coding) from the selection's Description.

        ``"<code>: <one word>"`` must be a stance (a typo is refused, not read as "supports");
        ``"<code>: proposed, score ..."`` is a model proposal; several words after the code are a memo.
        """
        per_code: dict[str, str | None] = {}
        bare = None
        memo = False
        for part in (p.strip() for p in (sel.findtext(f"{self.ns}Description") or "").split(";")):
            m = re.fullmatch(r"([^:]+):(.*)", part, re.S)
            value = m.group(2).strip() if m else ""
            if not part:
                continue
            elif is_stance(part):
                bare = parse_stance(part, self.at(sel))
            elif m and m.group(1).strip() in keys and (is_stance(value) or len(value.split()) == 1 or value.startswith("proposed")):
                per_code[m.group(1).strip()] = None if value.startswith("proposed") else parse_stance(value, self.at(sel))
            else:
                memo = True
        self.project.skipped["coding memos"] += memo
        return per_code, bare

    def _cases(self, source_names: dict[str, str]) -> None:
        variables = {v.get("guid"): v.get("name") or v.get("guid") for v in self.root.iter(f"{self.ns}Variable")}

        def values(el: Any) -> dict[str, str]:
            out = {}
            for vv in el.findall(f"{self.ns}VariableValue"):
                ref = vv.find(f"{self.ns}VariableRef")
                value = next((c.text for c in vv if c is not ref and c.text is not None), None)
                if ref is not None and value is not None:
                    out[variables.get(ref.get("targetGUID"), ref.get("targetGUID"))] = value.strip()
            return out

        cases = self.project.cases
        for el in self.all(self.root, "Sources", "TextSource"):
            if values(el):  # MAXQDA puts variables on the source
                cases[source_names[el.get("guid")]] = (None, values(el))
        for case in self.all(self.root, "Cases", "Case"):
            for ref in case.findall(f"{self.ns}SourceRef"):
                name = source_names.get(ref.get("targetGUID"))
                if name is None:
                    continue
                informant, known = cases.get(name, (None, {}))
                if informant is not None:
                    self.project.warnings.append(f"source '{name}' belongs to the cases '{informant}' and '{case.get('name')}'; "
                                                 f"its informant is '{informant}'")
                    continue
                cases[name] = (case.get("name") or case.get("guid"), {**known, **values(case)})


def _squash(text: str | None) -> str:
    """Whitespace runs as one space: XML turns line breaks in attribute values into spaces."""
    return re.sub(r"\s+", " ", text or "")


def _matches(selected: str, name: str) -> bool:
    """The selection's name is its text; some tools shorten it (a prefix of 20+ characters, maybe with an ellipsis)."""
    text = _squash(selected)
    short = name.removesuffix("...").removesuffix("…")
    return text == name or (20 <= len(short) < len(text) and text.startswith(short))
