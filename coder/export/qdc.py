"""REFI-QDA codebook exchange (.qdc): codes with hierarchy, colours and descriptions.

Export: groups become non-codable parent codes, codes their children (the code id leads the
description as ``[id]`` so a re-import keeps ids). Import: non-codable codes become groups,
codable codes become codes in their nearest group; the result is codebook YAML that
`coder codebook check` accepts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
    """Codebook YAML from a .qdc (or a project.qde's CodeBook); hypotheses are left for the user to add.

    The hierarchy is kept as far as codebook YAML can hold it: a non-codable code is a group (a
    non-codable one inside it becomes its own group, labelled "Parent / Child"); a codable code
    belongs to the group of its nearest non-codable ancestor, or, at the top, is a group of its own.
    Ids come from a leading ``[id]`` in the description (as coder writes them), else from the
    names along the path (``h3.chikane.trusler``); an id that is taken gets ``_2``, ``_3``.
    """
    from lxml import etree

    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError) as e:
        raise InputFileError(f"{path.name} is not a readable .qdc codebook ({e}).") from e
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    top = root.find(f".//{ns}Codes")
    if top is None:
        raise InputFileError(f"{path.name} has no <Codes>; it is not a REFI-QDA codebook.")
    groups: list[dict[str, str]] = []
    codes: list[dict[str, str]] = []
    taken: dict[str, set[str]] = {"group": set(), "code": set()}  # group ids and code ids may coincide

    def split(el: Any) -> tuple[str | None, str]:
        m = re.match(r"\[([a-z0-9_.]+)\]\s*(.*)", el.findtext(f"{ns}Description") or "", re.S)
        return (m.group(1), m.group(2).strip()) if m else (None, (el.findtext(f"{ns}Description") or "").strip())

    def unique(wanted: str, kind: str) -> str:
        out, k = wanted, 2
        while out in taken[kind]:
            out, k = f"{wanted}_{k}", k + 1
        taken[kind].add(out)
        return out

    def walk(el: Any, prefix: str | None, group: dict[str, str] | None) -> None:
        name = el.get("name") or el.get("guid") or "code"
        own, desc = split(el)
        wanted = own or (f"{prefix}.{_slug(name)}" if prefix else _slug(name))
        if el.get("isCodable", "true") == "false":
            group = {"id": unique(wanted, "group"), "label": f"{group['label']} / {name}" if group else name, "description": desc}
            groups.append(group)
            ident = group["id"]
        else:
            ident = unique(wanted, "code")
            if group is None:  # a codable code at the top: a group of its own
                group = {"id": unique(ident, "group"), "label": name, "description": ""}
                groups.append(group)
            colour = el.get("color") or ""
            codes.append({k: v for k, v in {"id": ident, "label": name, "group": group["id"], "description": desc or name,
                                            "colour": colour if re.fullmatch(r"#[0-9a-fA-F]{6}", colour) else None}.items() if v})
        for child in el.findall(f"{ns}Code"):
            walk(child, ident, group)

    for el in top.findall(f"{ns}Code"):
        walk(el, None, None)
    data = {"id": codebook_id, "version": 1, "title": codebook_id, "groups": groups, "codes": codes, "hypotheses": []}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
