from __future__ import annotations


import pytest

from coder.errors import InputFileError
from coder.ingest import find_turns, read_metadata, read_transcript


def _speech(t, i):
    turn = t.turns[i]
    return t.text[turn.start : turn.end]


def test_ingest_txt_header_turns_and_roles(data_dir):
    t = read_transcript(data_dir / "lene.txt")
    assert t.informant == "Lene Kristoffersen"
    assert t.metadata["dato"] == "11. februar 2025"
    assert [(x.speaker, x.role) for x in t.turns] == [
        ("I", "interviewer"), ("Lene", "informant"), ("I", "interviewer"), ("Lene", "informant")
    ]
    # a turn runs over line breaks until the next label, without the label itself
    assert _speech(t, 1).startswith("Det var truslerne.") and _speech(t, 1).endswith("Min familie kunne ikke mere.")
    assert t.text[t.turns[1].label_start :].startswith("Lene:")
    assert t.warnings == ()


@pytest.mark.parametrize(
    "line_i, line_b, speaker",
    [
        ("I: Hvordan?", "B: Sådan.", "B"),
        ("Interviewer: Hvordan?", "Lene Kristoffersen: Sådan.", "Lene Kristoffersen"),
        ("[00:23:41] I: Hvordan?", "[00:23:55] Lene: Sådan.", "Lene"),
        ("INT: Hvordan?", "IP1: Sådan.", "IP1"),
        ("I: Hvordan?", "Anne-Marie: Sådan.", "Anne-Marie"),
    ],
)
def test_ingest_speaker_label_styles(line_i, line_b, speaker):
    text = f"{line_i}\n{line_b} Og mere.\n{line_i}\n{line_b}\n"
    split = find_turns(text)
    assert [t.role for t in split.turns] == ["interviewer", "informant"] * 2
    assert split.turns[1].speaker == speaker
    assert text[split.turns[1].start : split.turns[1].end] == "Sådan. Og mere."


def test_ingest_timestamp_kept_as_metadata():
    split = find_turns("[00:01:02] I: Hej?\n[00:01:09] Lene: Hej.\n[00:02:00] I: Godt?\n[00:02:05] Lene: Ja.")
    assert split.turns[1].meta["time"] == "00:01:09"


def test_ingest_short_and_full_name_are_one_speaker():
    text = "Interviewer: Hvad?\nKarsten Holm: Det.\nInterviewer: Og?\nKarsten: Også det.\nInterviewer: Tak?\nKarsten Holm: Ja."
    split = find_turns(text)
    assert {t.speaker for t in split.turns if t.role == "informant"} == {"Karsten Holm"}


def test_ingest_interviewer_guessed_from_questions_and_reported():
    text = "Sofie: Hvorfor?\nLene: Derfor.\nSofie: Og så?\nLene: Så gik jeg."
    split = find_turns(text)
    assert [t.role for t in split.turns] == ["interviewer", "informant"] * 2
    assert "guessed that 'Sofie' is the interviewer" in split.warnings[0]


def test_ingest_interviewer_given_by_user():
    text = "A: Hvorfor?\nB: Derfor?\nA: Og så?\nB: Så gik jeg?"
    split = find_turns(text, interviewer=["A"])
    assert [t.role for t in split.turns] == ["interviewer", "informant"] * 2
    assert split.warnings == ()


def test_ingest_interviewer_from_header_name():
    text = "Interviewer: Sofie Lund\nInformant: Lene\n\nSofie: Hvorfor.\nLene: Derfor?\nSofie: Og så.\nLene: Så gik jeg?"
    split = find_turns(text)
    assert split.header["Interviewer"] == "Sofie Lund" and split.informant == "Lene"
    assert [t.role for t in split.turns] == ["interviewer", "informant"] * 2


def test_ingest_stray_colon_inside_answer_is_not_a_speaker():
    text = "I: Hvad skete der?\nB: Han sagde:\nDet her går ikke.\nI: Og så?\nB: Så stoppede jeg."
    split = find_turns(text)
    assert len(split.turns) == 4


def test_ingest_no_labels_is_one_turn_with_warning(data_dir):
    t = read_transcript(data_dir / "nolabels.txt")
    assert len(t.turns) == 1 and t.turns[0].role == "informant"
    assert "no speaker labels found" in t.warnings[0]


def test_ingest_latin1_is_converted_with_warning(data_dir):
    t = read_transcript(data_dir / "lene-latin1.txt")
    assert "Dødstrussel".lower() in t.text.lower() and "ø" in t.text
    assert "is not UTF-8" in t.warnings[0] and "Windows-1252" in t.warnings[0]
    assert t.text == read_transcript(data_dir / "lene.txt").text


def test_ingest_crlf_and_bom_normalised(tmp_path, data_dir):
    raw = (data_dir / "lene.txt").read_text(encoding="utf-8")
    p = tmp_path / "crlf.txt"
    p.write_bytes(b"\xef\xbb\xbf" + raw.replace("\n", "\r\n").encode("utf-8"))
    assert read_transcript(p).text == raw


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.txt", "empty.txt is empty; check that you picked the right file."),
        ("binary.txt", "binary.txt looks like a binary file, not text"),
        ("broken.docx", "broken.docx is not a readable .docx file"),
        ("missing.txt", "does not exist; check the path."),
        ("mini-codebook.yaml", "unsupported file type '.yaml'"),
    ],
)
def test_ingest_bad_files_give_one_clear_sentence(data_dir, name, message):
    with pytest.raises(InputFileError, match=None) as e:
        read_transcript(data_dir / name)
    assert message in str(e.value)


def test_ingest_docx_bold_labels_without_colon(make_docx):
    path = make_docx([
        (None, "Informant: Lene"), (None, ""),
        ("Interviewer", " Hvorfor stoppede du?"),
        ("Lene", " Det var truslerne."),
        ("Interviewer", " Tak."),
        ("Lene", " Selv tak."),
    ])
    t = read_transcript(path)
    assert [x.role for x in t.turns] == ["interviewer", "informant"] * 2
    assert t.text[t.turns[1].start : t.turns[1].end] == "Det var truslerne."
    assert t.informant == "Lene"


def test_ingest_docx_paragraphs_with_colon_labels(make_docx):
    path = make_docx([(None, "I: Hvorfor?"), (None, "B: Derfor."), (None, "I: Og?"), (None, "B: Så.")])
    t = read_transcript(path)
    assert [x.speaker for x in t.turns] == ["I", "B", "I", "B"]


def test_ingest_docx_without_text(make_docx):
    with pytest.raises(InputFileError, match="contains no text"):
        read_transcript(make_docx([(None, "")]))


@pytest.mark.parametrize("name", ["tiny.srt", "tiny.vtt"])
def test_ingest_subtitles_join_cues_into_turns(data_dir, name):
    t = read_transcript(data_dir / name)
    informant = [x for x in t.turns if x.role == "informant"]
    assert len(informant) == 1
    assert t.text[informant[0].start : informant[0].end] == "Det var truslerne. Jeg kunne ikke mere."
    assert informant[0].meta["time"].startswith("00:00:03")


def test_ingest_sidecar_csv_and_filename(tmp_path, data_dir):
    side = tmp_path / "informants.csv"
    side.write_text("file;informant;municipality;party\nlene.txt;Lene K;Brinkby;S\n", encoding="utf-8")
    meta = read_metadata(side)
    assert meta["lene"] == {"informant": "Lene K", "municipality": "Brinkby", "party": "S"}
    t = read_transcript(data_dir / "lene.txt", metadata=meta["lene"])
    assert t.informant == "Lene K" and t.metadata["municipality"] == "Brinkby"
    assert read_transcript(data_dir / "nolabels.txt", informant_from_filename=True).informant == "Nolabels"


def test_ingest_offsets_point_into_unchanged_text(data_dir):
    raw = (data_dir / "lene.txt").read_text(encoding="utf-8")
    t = read_transcript(data_dir / "lene.txt")
    assert t.text == raw
    for turn in t.turns:
        assert 0 <= turn.start < turn.end <= len(raw)
        assert raw[turn.start : turn.end] == raw[turn.start : turn.end].strip()


SECRET = "CPR 010203-1234"
SRT_BAD = f"1\n00:00:01,000 --> 00:00:03,000\nI: Hvorfor stoppede du?\n\n2\n00:00:03,500 -> 00:00:06,000\nLene: {SECRET}\n\n3\n00:00:06,100 --> 00:00:08,000\nLene: Det var truslerne.\n"
VTT_BAD = f"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v I>Hvorfor stoppede du?\n\n00:00:03.500 --> 00:00:0x.000\n<v Lene>{SECRET}\n\n00:00:06.100 --> 00:00:08.000\n<v Lene>Det var truslerne.\n"


@pytest.mark.parametrize("name, content, line", [("bad.srt", SRT_BAD, 5), ("bad.vtt", VTT_BAD, 6)])
def test_issue_15_unreadable_cues_fail_with_line_numbers_never_text(tmp_path, name, content, line):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as e:
        read_transcript(path)
    assert str(e.value) == (f"{name}: 1 cue(s) without a readable 'start --> end' timing line (line {line}); "
                            "fix them, or pass --skip-bad-cues to leave them out.")
    t = read_transcript(path, skip_bad_cues=True)
    assert SECRET not in t.text and [_speech(t, i) for i in range(len(t.turns))] == ["Hvorfor stoppede du?", "Det var truslerne."]
    assert t.warnings == (f"{name}: left out 1 cue(s) without a readable timing line (line {line}).",)


def test_issue_15_utf16_with_odd_byte_count_is_one_sentence(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_bytes(b"\xff\xfe" + "I: Hej\nLene: Hej.\n".encode("utf-16-le") + b"L")
    with pytest.raises(InputFileError, match=r"^cut.txt starts as UTF-16 text but is damaged at byte \d+ .*re-save it as UTF-8"):
        read_transcript(path)


def test_issue_15_docx_with_damaged_xml_is_one_sentence(make_docx, tmp_path):
    import zipfile

    good = make_docx([("I:", " Hej?"), ("Lene:", " Hej.")])
    bad = tmp_path / "bad.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    with pytest.raises(InputFileError, match="^bad.docx is not a readable .docx file"):
        read_transcript(bad)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("informants.yaml", f"lene.txt:\n  informant: Lene\n  cpr: [{SECRET}\n", r"^The metadata file .*informants.yaml is not valid YAML, line \d+, column \d+; fix"),
        ("informants.yaml", f"lene.txt: {SECRET}\n", r"informants.yaml: the entry for 'lene.txt' must be a mapping"),
        ("informants.csv", f'file,informant,note\nlene.txt,Lene,"{SECRET}{"x" * 200_000}"\n', r"^The metadata file .*informants.csv, line 2, is not valid CSV; fix that line."),
    ],
)
def test_issue_15_metadata_errors_name_file_and_line_never_content(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=message) as e:
        read_metadata(path)
    assert "010203" not in str(e.value)
