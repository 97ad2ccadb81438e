"""REFI-QDA exchange with the shapes real tools write (QualCoder export code read at ccbogel/QualCoder@c320464).

The QualCoder-shaped .qdpx below follows `refi.py` there: one PlainTextSelection per coding with
``name`` = the selected text and the coding memo as Description, text files under ``sources/``
written as UTF-8 with a BOM and, with its "MAXQDA line endings" option, CRLF line breaks while
the offsets still count a line break as one character; a PDFSelection after the PDF's
Representation (the schema wants it before). ``Sources/`` with a capital S is NVivo's spelling.
"""

from __future__ import annotations

import html
import json
import zipfile

import pytest

from coder.errors import CoderError, InputFileError

from .conftest import DATA, REPO

NS = "urn:QDA-XML:project:1.0"
TEXT = "I: Hvorfor stoppede du?\nB: Byrådet var umuligt. Jeg fik trusler hele tiden.\nI: Og familien?\nB: Familien havde det svært.\n"
# (text, user, code, Description): two coders on one sentence, stances as coder writes them (the first two
# codes came from coder and carry their id) and as a person would write a memo in QualCoder.
SELECTIONS = [
    ("Byrådet var umuligt.", "Anna", "Byråd", "h1.council: contradicts"),
    ("Jeg fik trusler hele tiden.", "Anna", "Chikane", "h3.harassment: supports"),
    ("Jeg fik trusler hele tiden.", "Bo", "Chikane", "modsiger"),
    ("Familien havde det svært.", "Bo", "Familie", "vigtig pointe"),
]


def g(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


CODES = {"Byråd": g(3), "Chikane": g(5), "Trusler": g(6), "Familie": g(7)}
USERS = {"Anna": g(1), "Bo": g(2)}


def qualcoder_xml(*, crlf_offsets: bool = False, shift: int = 0, descriptions: dict[int, str] | None = None) -> str:
    raw = TEXT.replace("\n", "\r\n") if crlf_offsets else TEXT
    sels = []
    for i, (text, user, code, desc) in enumerate(SELECTIONS):
        desc = (descriptions or {}).get(i, desc)
        start = raw.index(text) + shift
        sels.append(
            f'<PlainTextSelection guid="{g(100 + i)}" startPosition="{start}" endPosition="{start + len(text)}" '
            f'name="{html.escape(text)}" creatingUser="{USERS[user]}" creationDateTime="2026-01-05T10:00:00Z">\n'
            + (f"<Description>{html.escape(desc)}</Description>\n" if desc else "")
            + f'<Coding guid="{g(200 + i)}" creatingUser="{USERS[user]}" >\n<CodeRef targetGUID="{CODES[code]}" />\n</Coding>\n'
            "</PlainTextSelection>\n"
        )
    sels.append(f'<PlainTextSelection guid="{g(120)}" startPosition="3" endPosition="10" name="Hvorfor" '
                f'creatingUser="{g(1)}">\n<Description>spørgsmål 1</Description>\n</PlainTextSelection>\n')
    return f'''<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="qualcoder" origin="QualCoder 3.6">
<Users>
<User guid="{g(1)}" name="Anna"/>
<User guid="{g(2)}" name="Bo"/>
</Users>
<CodeBook><Codes>
<Code guid="{g(20)}" name="H1" isCodable="false"><Code guid="{g(3)}" name="Byråd" isCodable="true" color="#F5A9A9">
<Description>[h1.council] Samarbejdet i byrådet blokerer indflydelse.</Description></Code></Code>
<Code guid="{g(21)}" name="H3" isCodable="false">
<Code guid="{g(5)}" name="Chikane" isCodable="true" color="#F7BE81"><Description>[h3.harassment] Trusler og chikane.</Description>
<Code guid="{g(6)}" name="Trusler" isCodable="true"/></Code>
<Code guid="{g(7)}" name="Familie" isCodable="true"/>
</Code>
</Codes></CodeBook>
<Variables><Variable guid="{g(30)}" name="kommune" typeOfVariable="Text"/></Variables>
<Cases><Case guid="{g(31)}" name="Birgit">
<VariableValue><VariableRef targetGUID="{g(30)}"/><TextValue>Brinkby</TextValue></VariableValue>
<SourceRef targetGUID="{g(40)}"/>
</Case></Cases>
<Sources>
<TextSource plainTextPath="internal://{g(40)}.txt" creatingUser="{g(1)}" guid="{g(40)}" name="birgit.txt">
{"".join(sels)}</TextSource>
<PDFSource path="internal://{g(41)}.pdf" guid="{g(41)}" name="brev.pdf">
<Representation guid="{g(42)}" plainTextPath="internal://{g(42)}.txt" name="brev.pdf">
<PlainTextSelection guid="{g(43)}" startPosition="0" endPosition="4" name="Kære"><Coding guid="{g(44)}"><CodeRef targetGUID="{g(7)}"/></Coding></PlainTextSelection>
</Representation><PDFSelection guid="{g(45)}" page="0" firstX="1" firstY="1" secondX="9" secondY="9" name="">
<Coding guid="{g(46)}"><CodeRef targetGUID="{g(7)}"/></Coding>
</PDFSelection>
</PDFSource>
</Sources>
<Notes><Note guid="{g(50)}" name="journal"><PlainTextContent>Husk at ringe.</PlainTextContent></Note></Notes>
</Project>
'''


def write_qdpx(path, xml: str, *, crlf_file: bool = True, folder: str = "Sources", text: bytes | None = None):
    raw = TEXT.replace("\n", "\r\n") if crlf_file else TEXT
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", xml)
        z.writestr(f"{folder}/{g(40)}.txt", text if text is not None else "\ufeff".encode() + raw.encode("utf-8"))
        z.writestr(f"{folder}/{g(42)}.txt", "Kære borgmester".encode("utf-8-sig"))
    return path


def line_of(xml: str, needle: str) -> int:
    return xml[: xml.index(needle)].count("\n") + 1


@pytest.fixture
def qualcoder(tmp_path):
    return write_qdpx(tmp_path / "qualcoder.qdpx", qualcoder_xml())


def decisions(project, coder):
    """(sentence text, code, stance) of a coder's current accepted decisions."""
    rows = {r.id: r for r in project.sentences(role="informant")}
    return sorted((rows[s].text, c, st) for s in project.store.reviewed_ids(coder)
                  for c, ok, st in project.store.current_decisions(s, coder) if ok)


def test_refi_qualcoder_ingest_reads_case_crlf_sources_folder_and_counts_what_it_skips(project, qualcoder):
    xml = qualcoder_xml()
    report = project.add_transcripts([qualcoder])
    assert [(d.name, d.informant) for d in report.added] == [("birgit", "Birgit")]  # the case is the informant
    assert project.store.document_text("birgit") == TEXT  # BOM dropped, CRLF stored as LF
    assert project.store.documents()[0].metadata["kommune"] == "Brinkby"
    warnings = "\n".join(report.warnings)
    # The schema deviation is a warning with the line of the misplaced PDFSelection, not a refusal.
    assert f"line {line_of(xml, '<PDFSelection')}: Element '{{{NS}}}PDFSelection': This element is not expected" in warnings
    assert "source 'birgit.txt' has Windows line endings (CRLF), stored as LF; its selection offsets count CRLF as one character (checked on 4 selection texts)" in warnings
    assert ("not imported (coder reads text sources, their codings and cases): 1 PDF area codings, 1 PDF sources, "
            "1 PDF text codings, 1 coding memos, 1 notes and annotations (Notes), 1 selections without a code (annotations)") in warnings
    assert "its 4 codings are not read by ingest" in warnings


def test_refi_qualcoder_codings_keep_each_coder_and_stance(project, qualcoder, runner):
    from coder.cli import app

    project.add_transcripts([qualcoder])
    anna = project.import_codings(qualcoder, "anna", user="Anna")
    bo = project.import_codings(qualcoder, "bo", user="Bo")
    assert decisions(project, "anna") == [("Byrådet var umuligt.", "h1.council", "contradicts"),
                                          ("Jeg fik trusler hele tiden.", "h3.harassment", "supports")]
    assert decisions(project, "bo") == [("Familien havde det svært.", "h3.family", "supports"),  # a memo is no stance
                                        ("Jeg fik trusler hele tiden.", "h3.harassment", "contradicts")]
    assert any("1 coding memos" in p for p in anna.problems) and any("1 PDF text codings" in p for p in bo.problems)
    r = runner.invoke(app, ["import-codings", str(project.path), str(qualcoder), "--coder", "both"])
    assert r.exit_code == 0, r.output
    assert "holds codings by 2 users (Anna, Bo), imported together; pass --user to import one" in r.output


@pytest.mark.parametrize("crlf_offsets", [False, True], ids=["crlf-as-one", "crlf-as-two"])
def test_refi_crlf_offsets_are_read_in_the_convention_that_matches_the_selection_text(project, tmp_path, crlf_offsets):
    path = write_qdpx(tmp_path / "p.qdpx", qualcoder_xml(crlf_offsets=crlf_offsets))
    report = project.add_transcripts([path])
    assert f"count CRLF as {'two characters' if crlf_offsets else 'one character'}" in "\n".join(report.warnings)
    project.import_codings(path, "anna", user="Anna")
    assert decisions(project, "anna") == [("Byrådet var umuligt.", "h1.council", "contradicts"),
                                          ("Jeg fik trusler hele tiden.", "h3.harassment", "supports")]


def test_refi_offsets_that_match_neither_convention_are_refused_with_the_line(project, tmp_path):
    xml = qualcoder_xml(shift=2)
    path = write_qdpx(tmp_path / "p.qdpx", xml)
    with pytest.raises(InputFileError) as e:
        project.add_transcripts([path])
    assert str(e.value) == (
        "p.qdpx: the selections of source 'birgit.txt' do not point at their own text whether a Windows line ending (CRLF) "
        f"counts as one character or two (3 of 4 differ, first at project.qde line {line_of(xml, f'<PlainTextSelection guid={chr(34)}{g(100)}')}); "
        "the offsets cannot be trusted, export the project again from your QDA tool.")
    lf = write_qdpx(tmp_path / "lf.qdpx", xml, crlf_file=False)
    with pytest.raises(InputFileError, match=r"'birgit.txt' do not point at their own text \(3 of 4 differ"):
        project.add_transcripts([lf])


def test_refi_stance_and_code_errors_name_the_line_in_the_xml(project, tmp_path):
    memo = write_qdpx(tmp_path / "memo.qdpx", qualcoder_xml(descriptions={1: "Chikane: ikke helt sikker"}))
    assert "2 coding memos" in "\n".join(project.add_transcripts([memo]).warnings)  # several words after a code: a memo
    xml = qualcoder_xml(descriptions={1: "h3.harassment: måske"})
    path = write_qdpx(tmp_path / "p.qdpx", xml)
    with pytest.raises(CoderError, match=rf"p.qdpx, project.qde line {line_of(xml, g(101))}: Unknown stance 'måske'"):
        project.add_transcripts([path])
    unknown = qualcoder_xml().replace(f'<CodeRef targetGUID="{CODES["Familie"]}" />', f'<CodeRef targetGUID="{CODES["Trusler"]}" />')
    path = write_qdpx(tmp_path / "u.qdpx", unknown)
    project.add_transcripts([path])
    with pytest.raises(CoderError, match=rf"u.qdpx, project.qde line {line_of(unknown, g(203))}: unknown code Trusler"):
        project.import_codings(path, "bo", user="Bo")


def test_refi_out_of_range_selection_is_counted_and_non_utf8_text_is_one_sentence(project, tmp_path):
    xml = qualcoder_xml()
    far = xml.replace(f'<PlainTextSelection guid="{g(100)}" startPosition="27" endPosition="47"',
                      f'<PlainTextSelection guid="{g(100)}" startPosition="900" endPosition="920"')
    assert far != xml
    path = write_qdpx(tmp_path / "far.qdpx", far)
    project.add_transcripts([path])
    report = project.import_codings(path, "anna", user="Anna")
    assert f"1 selection(s) of source 'birgit.txt' lie outside its text (first at project.qde line {line_of(far, g(100))}); skipped" in report.problems
    assert decisions(project, "anna") == [("Jeg fik trusler hele tiden.", "h3.harassment", "supports")]
    latin = write_qdpx(tmp_path / "latin.qdpx", xml, text=TEXT.encode("cp1252"))
    with pytest.raises(InputFileError) as e:
        project.add_transcripts([latin])
    assert str(e.value) == (f"latin.qdpx: the text of source 'birgit.txt' (Sources/{g(40)}.txt) is not UTF-8 (byte 0xe5 at offset 30), "
                            "as REFI-QDA requires; export the project again from your QDA tool.")
    with zipfile.ZipFile(tmp_path / "qde.qdpx", "w") as z:  # the project.qde itself in Latin-1
        z.writestr("project.qde", xml.encode("latin-1"))
    with pytest.raises(InputFileError, match=rf"^qde.qdpx: project.qde is not well-formed XML \(line {line_of(xml, 'Byråd')}\); export the project again.$"):
        project.add_transcripts([tmp_path / "qde.qdpx"])
    pdf_only = xml[: xml.index("<TextSource")] + xml[xml.index("<PDFSource") :]
    with pytest.raises(InputFileError, match=r"pdf.qdpx has no text sources, the only kind coder reads \(it holds 1 PDF area codings, "):
        project.add_transcripts([write_qdpx(tmp_path / "pdf.qdpx", pdf_only)])


def test_refi_round_trip_keeps_codes_stances_coders_and_verdicts(ingested, tmp_path):
    from lxml import etree

    from coder import Project
    from coder.export.qdpx import validate

    queue = ingested.review_queue("anna", "sequential")
    ingested.decide(queue[0], "anna", {"h3.harassment": "supports", "h3.family": "contradicts"})
    ingested.decide(queue[0], "bo", {"h3.harassment": "contradicts"})  # two coders on one sentence
    ingested.decide(queue[1], "anna", {})
    ingested.decide(queue[2], "bo", {"h3.family": "contradicts"})
    out = tmp_path / "p.qdpx"
    ingested.export_qdpx(out)
    with zipfile.ZipFile(out) as z:
        xml = z.read("project.qde")
    assert validate(xml, REPO / "data" / "refi-qda" / "Project.xsd") == []
    root = etree.fromstring(xml)
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{{{NS}}}User")}
    assert sorted(users.values()) == ["anna", "bo"]  # no placeholder user
    for sel in root.iter(f"{{{NS}}}PlainTextSelection"):  # QualCoder credits a selection's codings to its user
        (coding,) = sel.findall(f"{{{NS}}}Coding")
        assert coding.get("creatingUser") == sel.get("creatingUser")
    with Project.init(tmp_path / "again", DATA / "mini-codebook.yaml") as other:
        other.add_transcripts([out])
        for coder in ("anna", "bo"):
            assert other.import_codings(out, coder, user=coder).problems == ()
            assert decisions(other, coder) == decisions(ingested, coder)
            verdicts = [[(i.informant, i.verdict, i.supporting, i.contradicting) for i in h.informants]
                        for h in other.score("reviewed", coder=coder).hypotheses]
            assert verdicts == [[(i.informant, i.verdict, i.supporting, i.contradicting) for i in h.informants]
                                for h in ingested.score("reviewed", coder=coder).hypotheses]
        assert any(i.contradicting for h in other.score("reviewed", coder="bo").hypotheses for i in h.informants)


def _bomb(path, member: str, extra: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in extra.items():
            z.writestr(name, data)
        z.writestr(member, b"\0" * (3 * 1024 * 1024))  # 3 MB of zeros pack to about 3 kB
    return path


def test_refi_zip_bombs_in_docx_and_qdpx_are_refused_naming_file_and_member(project, tmp_path, make_docx):
    docx = make_docx([("I:", " Hej."), ("B:", " Hej.")])
    with zipfile.ZipFile(docx) as z:
        parts = {n: z.read(n) for n in z.namelist() if n != "word/document.xml"}
    with pytest.raises(InputFileError, match=r"bomb.docx: the member word/document.xml would unpack to 3 MB \(\d+ times its packed size\)"):
        project.add_transcripts([_bomb(tmp_path / "bomb.docx", "word/document.xml", parts)])
    with pytest.raises(InputFileError, match=r"bomb.qdpx: the member project.qde would unpack to 3 MB .*possible zip bomb"):
        project.add_transcripts([_bomb(tmp_path / "bomb.qdpx", "project.qde", {})])
    source = qualcoder_xml()
    with pytest.raises(InputFileError, match=rf"the member Sources/{g(40)}.txt would unpack"):
        project.add_transcripts([_bomb(tmp_path / "text.qdpx", f"Sources/{g(40)}.txt", {"project.qde": source.encode()})])


def test_refi_codebook_import_keeps_hierarchy_and_ids(tmp_path, runner):
    from coder.cli import app
    from coder.codebook import parse_codebook

    qdc = tmp_path / "q.qdc"
    qdc.write_text(f'''<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="QualCoder"><Codes>
<Code guid="{g(1)}" name="H3" isCodable="false"><Description>[h3] Arbejdsmiljø</Description>
 <Code guid="{g(2)}" name="Chikane" isCodable="true" color="#F5A9A9"><Code guid="{g(3)}" name="Trusler" isCodable="true"/></Code>
 <Code guid="{g(4)}" name="Online" isCodable="false"><Code guid="{g(5)}" name="Facebook" isCodable="true"/></Code>
</Code>
<Code guid="{g(6)}" name="Øvrige" isCodable="true"><Description>[other] Alt andet</Description></Code>
<Code guid="{g(7)}" name="Chikane" isCodable="true"/>
</Codes></CodeBook>''', encoding="utf-8")
    r = runner.invoke(app, ["codebook", "import", str(qdc), "--out", str(tmp_path / "q.yaml")])
    assert r.exit_code == 0, r.output
    book = parse_codebook((tmp_path / "q.yaml").read_text(encoding="utf-8"))
    assert [(x.id, x.label) for x in book.groups] == [("h3", "H3"), ("h3.online", "H3 / Online"), ("other", "Øvrige"),
                                                      ("chikane", "Chikane")]
    assert [(c.id, c.label, c.group, c.colour) for c in book.codes] == [
        ("h3.chikane", "Chikane", "h3", "#F5A9A9"), ("h3.chikane.trusler", "Trusler", "h3", book.codes[1].colour),
        ("h3.online.facebook", "Facebook", "h3.online", book.codes[2].colour), ("other", "Øvrige", "other", book.codes[3].colour),
        ("chikane", "Chikane", "chikane", book.codes[4].colour)]
    assert book.codes[3].description == "Alt andet"


def test_refi_stance_synonyms_are_read_everywhere_and_anything_else_is_refused(ingested, tmp_path):
    from coder.stance import UnknownStanceError

    rows = [r for r in ingested.sentences(role="informant")][:4]
    spans = tmp_path / "s.jsonl"
    stances = ["modsiger", "+", " Taler  imod ", "support"]
    spans.write_text("".join(json.dumps({"document": "lene", "start": r.start, "end": r.end, "codes": ["h3.family"], "stance": st}) + "\n"
                             for r, st in zip(rows, stances)), encoding="utf-8")
    ingested.import_codings(spans, "anna")
    got = {text: st for text, _, st in decisions(ingested, "anna")}
    assert [got[r.text] for r in rows] == ["contradicts", "supports", "contradicts", "supports"]
    csv = tmp_path / "s.csv"
    csv.write_text(f"document,start,end,codes,stance\nlene,{rows[0].start},{rows[0].end},h3.family,against\n"
                   f"lene,{rows[1].start},{rows[1].end},h3.family,contradict?\n", encoding="utf-8")
    with pytest.raises(UnknownStanceError, match=r"s.csv, line 3: Unknown stance 'contradict\?'; use supports"):
        ingested.import_codings(csv, "bo")
    assert not ingested.store.reviewed_ids("bo")  # refused before anything is written
    ingested.decide(rows[0].id, "cy", {"h3.family": "modsiger"})
    assert ingested.store.current_decisions(rows[0].id, "cy") == [("h3.family", True, "contradicts")]


def test_refi_export_users_are_the_coders_people_first(tmp_path):
    from lxml import etree

    from coder.codebook import load_codebook
    from coder.export.qdpx import Coded, Source, build_project

    book = load_codebook(DATA / "mini-codebook.yaml")
    coded = [Coded("a", 0, 3, "h1.council", u) for u in ("zed", "model:m1", "anna")]
    root = etree.fromstring(build_project(book, [Source("a", "Hej med dig", None, {})], coded, name="p"))
    assert [u.get("name") for u in root.iter(f"{{{NS}}}User")] == ["anna", "zed", "model:m1"]
    empty = etree.fromstring(build_project(book, [Source("a", "Hej", None, {})], [], name="p"))
    assert empty.find(f"{{{NS}}}Users") is None  # no placeholder user
