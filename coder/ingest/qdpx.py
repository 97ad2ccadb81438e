"""REFI-QDA project import (.qdpx): text sources, codes, users and codings.

The project.qde is validated against the QDA-XML 1.0 schema first (the first errors are reported
with line numbers). Text sources become documents (speaker turns are found as for .txt files);
picture, PDF, audio and video sources are reported and skipped. Offsets are Unicode code points.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError

NS = "{urn:QDA-XML:project:1.0}"
XSD = Path(__file__).resolve().parent.parent.parent / "data" / "refi-qda" / "Project.xsd"


@dataclass(frozen=True, slots=True)
class QdpxCoding:
    source: str  # source name
    start: int
    end: int
    code_id: str | None  # a coder code id when the description carries one ("[h3.harassment] ...")
    code_name: str
    user: str


@dataclass
class QdpxProject:
    sources: dict[str, str] = field(default_factory=dict)  # name -> text
    codings: list[QdpxCoding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_qdpx(path: Path) -> QdpxProject:
    from lxml import etree

    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputFileError(f"{path.name} is not a .qdpx file (not a ZIP archive); export the project again from your QDA tool.") from e
    with z:
        if "project.qde" not in z.namelist():
            raise InputFileError(f"{path.name} has no project.qde inside; it is not a REFI-QDA project.")
        xml = z.read("project.qde")
        try:
            root = etree.fromstring(xml)
        except etree.XMLSyntaxError as e:
            raise InputFileError(f"{path.name}: project.qde is not well-formed XML ({e}).") from e
        schema = etree.XMLSchema(etree.parse(str(XSD)))
        if not schema.validate(root.getroottree()):
            first = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:3])
            raise InputFileError(f"{path.name}: project.qde does not follow the REFI-QDA schema ({first}).")
        users = {u.get("guid"): u.get("name") or u.get("guid") for u in root.iter(f"{NS}User")}
        codes = {}
        seen_guids: set[str] = set()
        for c in root.iter(f"{NS}Code"):
            g = c.get("guid")
            if g in seen_guids:
                raise InputFileError(f"{path.name}: the GUID {g} is used by two codes; fix the project in your QDA tool.")
            seen_guids.add(g)
            desc = c.findtext(f"{NS}Description") or ""
            code_id = desc[1 : desc.index("]")] if desc.startswith("[") and "]" in desc else None
            codes[g] = (c.get("name"), code_id)
        project = QdpxProject()
        for tag in ("PictureSource", "PDFSource", "AudioSource", "VideoSource"):
            for s in root.iter(f"{NS}{tag}"):
                project.skipped.append(f"{s.get('name')} ({tag.replace('Source', '').lower()}: not supported, skipped)")
        for s in root.iter(f"{NS}TextSource"):
            name = s.get("name") or s.get("guid")
            content = s.findtext(f"{NS}PlainTextContent")
            if content is None:
                ref = (s.get("plainTextPath") or "").replace("internal://", "sources/")
                if ref not in z.namelist():
                    raise InputFileError(f"{path.name}: the text of source '{name}' ({ref}) is missing from the archive.")
                content = z.read(ref).decode("utf-8-sig")
            if "\r" in content:
                project.skipped.append(f"{name}: CR line endings found; offsets assume LF, codings may be shifted")
            if name in project.sources:
                raise InputFileError(f"{path.name}: two sources are called '{name}'; rename one in your QDA tool.")
            project.sources[name] = content
            for sel in s.iter(f"{NS}PlainTextSelection"):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                if not 0 <= start < end <= len(content):
                    project.skipped.append(f"{name}: selection {start}-{end} lies outside the text (length {len(content)})")
                    continue
                for coding in sel.iter(f"{NS}Coding"):
                    ref = coding.find(f"{NS}CodeRef").get("targetGUID")
                    cname, cid = codes.get(ref, (None, None))
                    user = users.get(coding.get("creatingUser") or sel.get("creatingUser"), "unknown")
                    project.codings.append(QdpxCoding(name, start, end, cid, cname or ref, user))
    return project
