"""REFI-QDA project export (.qdpx: a ZIP with project.qde and the sources as UTF-8 text).

Offsets are Unicode code points on the stored text with LF line endings (QualCoder's convention);
each selection's ``name`` is its full text, so a reader can check the offsets. GUIDs are uuid5
values derived from names, so exporting the same project twice gives the same GUIDs and a
re-import can recognise what it already has. Codebook groups become non-codable parent codes;
informants become Cases with Variables from their metadata; every coder with codings (and, with
proposals, every model) is a User, and there is no other user.

Each coding is its own selection (creatingUser = its coder, Description = ``"<code id>: <stance>"``):
QualCoder credits every coding of a selection to the selection's user and keeps the selection's
Description as each coding's memo, so only one coding per selection keeps both coder and stance.

The researcher's verdicts (issue 12) travel as project Notes, one per informant x hypothesis, with
the verdict, the rule's proposal, the coder and the rationale in plain text, referenced from the
project so NVivo and QualCoder list them as project memos.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..codebook import Codebook

NS = "urn:QDA-XML:project:1.0"
_ROOT = uuid.UUID("7c0de7c0-de00-4000-8000-000000000000")


def guid(*parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "/".join(parts)))


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    text: str
    informant: str | None
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Coded:
    document: str
    start: int
    end: int
    code: str
    user: str
    description: str = ""


def build_project(
    codebook: Codebook, sources: Sequence[Source], coded: Sequence[Coded], *, name: str, notes: Sequence[tuple[str, str]] = ()
) -> bytes:
    """Return project.qde as UTF-8 XML bytes; ``notes`` are (name, text) project notes."""
    from lxml import etree

    E = lambda tag, **attrs: etree.Element(f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()}, nsmap={None: NS})  # noqa: E731
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    project = E("Project", name=name, origin="coder", creationDateTime=now)
    # QualCoder makes the first User its current coder: people first, model users last.
    users = sorted({c.user for c in coded}, key=lambda u: (u.startswith("model:"), u))
    if users:  # the schema wants at least one User inside Users
        el = etree.SubElement(project, f"{{{NS}}}Users")
        for u in users:
            etree.SubElement(el, f"{{{NS}}}User", guid=guid("user", u), name=u)
    book = etree.SubElement(etree.SubElement(project, f"{{{NS}}}CodeBook"), f"{{{NS}}}Codes")
    for g in codebook.groups:
        parent = etree.SubElement(book, f"{{{NS}}}Code", guid=guid("group", codebook.id, g.id), name=g.label, isCodable="false")
        if g.description:
            etree.SubElement(parent, f"{{{NS}}}Description").text = g.description
        for c in (c for c in codebook.codes if c.group == g.id):
            code = etree.SubElement(parent, f"{{{NS}}}Code", guid=guid("code", codebook.id, c.id), name=c.label, isCodable="true", color=c.colour)
            etree.SubElement(code, f"{{{NS}}}Description").text = f"[{c.id}] {c.description}"
    keys = sorted({k for s in sources for k, v in s.metadata.items() if isinstance(v, (str, int, float)) and k != "format"})
    if keys:
        variables = etree.SubElement(project, f"{{{NS}}}Variables")
        for k in keys:
            etree.SubElement(variables, f"{{{NS}}}Variable", guid=guid("variable", k), name=k, typeOfVariable="Text")
    informants = sorted({s.informant for s in sources if s.informant})
    if informants:
        cases = etree.SubElement(project, f"{{{NS}}}Cases")
        for inf in informants:
            case = etree.SubElement(cases, f"{{{NS}}}Case", guid=guid("case", inf), name=inf)
            meta = next(s.metadata for s in sources if s.informant == inf)
            for k in keys:
                if k in meta:
                    vv = etree.SubElement(case, f"{{{NS}}}VariableValue")
                    etree.SubElement(vv, f"{{{NS}}}VariableRef", targetGUID=guid("variable", k))
                    etree.SubElement(vv, f"{{{NS}}}TextValue").text = str(meta[k])
            for s in sources:
                if s.informant == inf:
                    etree.SubElement(case, f"{{{NS}}}SourceRef", targetGUID=guid("source", s.name))
    src_el = etree.SubElement(project, f"{{{NS}}}Sources")
    code_guid = {c.id: guid("code", codebook.id, c.id) for c in codebook.codes}
    for s in sources:
        sg = guid("source", s.name)
        ts = etree.SubElement(src_el, f"{{{NS}}}TextSource", guid=sg, name=s.name, plainTextPath=f"internal://{sg}.txt")
        for c in sorted((c for c in coded if c.document == s.name), key=lambda c: (c.start, c.end, c.user, c.code)):
            key = (s.name, str(c.start), str(c.end), c.code, c.user)
            sel = etree.SubElement(ts, f"{{{NS}}}PlainTextSelection", guid=guid("selection", *key), name=s.text[c.start : c.end],
                                   startPosition=str(c.start), endPosition=str(c.end), creatingUser=guid("user", c.user))
            if c.description:
                etree.SubElement(sel, f"{{{NS}}}Description").text = c.description
            coding = etree.SubElement(sel, f"{{{NS}}}Coding", guid=guid("coding", *key), creatingUser=guid("user", c.user))
            etree.SubElement(coding, f"{{{NS}}}CodeRef", targetGUID=code_guid[c.code])
    if notes:
        notes_el = etree.SubElement(project, f"{{{NS}}}Notes")
        for note_name, text in notes:
            note = etree.SubElement(notes_el, f"{{{NS}}}Note", guid=guid("note", note_name), name=note_name, creationDateTime=now)
            etree.SubElement(note, f"{{{NS}}}PlainTextContent").text = text
        for note_name, _ in notes:
            etree.SubElement(project, f"{{{NS}}}NoteRef", targetGUID=guid("note", note_name))
    return etree.tostring(project, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_qdpx(
    path: Path, codebook: Codebook, sources: Sequence[Source], coded: Sequence[Coded], *, name: str, notes: Sequence[tuple[str, str]] = ()
) -> None:
    """Write the .qdpx atomically (a temporary file renamed into place, removed on failure)."""
    from ..outputs import atomic_output

    xml = build_project(codebook, sources, coded, name=name, notes=notes)
    with atomic_output(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", xml)
        for s in sources:
            z.writestr(f"sources/{guid('source', s.name)}.txt", s.text.encode("utf-8"))


def validate(xml: bytes, xsd: Path) -> list[str]:
    """Schema errors as 'line N: message' (empty when valid)."""
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(xsd)))
    doc = etree.fromstring(xml).getroottree()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
