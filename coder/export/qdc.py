"""REFI-QDA codebook exchange (.qdc): codes with hierarchy, colours and descriptions.

Export: groups become non-codable parent codes, codes their children (the code id leads the
description as ``[id]`` so a re-import keeps ids). Import: parents become groups, codable codes
become codes; the result is codebook YAML that `coder codebook check` accepts.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..codebook import Codebook
from ..errors import InputFileError
from .qdpx import guid

NS = "urn:QDA-XML:codebook:1.0"


def codebook_to_qdc(book: Codebook) -> bytes:
    from lxml import etree

    root = etree.Element(f"{{{NS}}}CodeBook", nsmap={None: NS}, origin="coder")
    codes = etree.SubElement(root, f"{{{NS}}}Codes")
    for g in book.groups:
        parent = etree.SubElement(codes, f"{{{NS}}}Code", guid=guid("group", book.id, g.id), name=g.label, isCodable="false")
        etree.SubElement(parent, f"{{{NS}}}Description").text = f"[{g.id}] {g.description}".strip()
        for c in (c for c in book.codes if c.group == g.id):
            code = etree.SubElement(parent, f"{{{NS}}}Code", guid=guid("code", book.id, c.id), name=c.label, isCodable="true", color=c.colour)
            etree.SubElement(code, f"{{{NS}}}Description").text = f"[{c.id}] {c.description}"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", name.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")).strip("_")
    return s or "code"


def qdc_to_yaml(path: Path, codebook_id: str) -> str:
    """Codebook YAML from a .qdc (or a project.qde's CodeBook); hypotheses are left for the user to add."""
    from lxml import etree

    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as e:
        raise InputFileError(f"{path.name} is not a readable .qdc codebook ({e}).") from e
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    groups, codes = [], []

    def split(desc: str) -> tuple[str | None, str]:
        m = re.match(r"\[([a-z0-9_.]+)\]\s*(.*)", desc or "", re.S)
        return (m.group(1), m.group(2)) if m else (None, desc or "")

    top = root.find(f"{ns}Codes")
    if top is None:
        raise InputFileError(f"{path.name} has no <Codes>; it is not a REFI-QDA codebook.")
    for parent in top.findall(f"{ns}Code"):
        children = parent.findall(f"{ns}Code")
        gid, gdesc = split(parent.findtext(f"{ns}Description") or "")
        gid = gid or _slug(parent.get("name", ""))
        if not children:  # a top-level codable code: its own group
            children, gdesc = [parent], ""
        groups.append({"id": gid, "label": parent.get("name") or gid, "description": gdesc})
        for c in children:
            for leaf in [c] if c is parent else list(c.iter(f"{ns}Code")):  # iter() includes c and nested codes
                cid, desc = split(leaf.findtext(f"{ns}Description") or "")
                entry = {"id": cid or f"{gid}.{_slug(leaf.get('name', ''))}", "label": leaf.get("name"), "group": gid,
                         "description": desc or leaf.get("name")}
                if leaf.get("color"):
                    entry["colour"] = leaf.get("color") if len(leaf.get("color")) == 7 else None
                codes.append({k: v for k, v in entry.items() if v})
    data = {"id": codebook_id, "version": 1, "title": codebook_id, "groups": groups, "codes": codes, "hypotheses": []}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
