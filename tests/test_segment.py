"""Tests for Danish sentence segmentation (`coder.segment`, `coder.sentence_rules`)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.records import Segment, Transcript, Turn
from coder.segment import MAX_CHARS, MAX_WORDS, load_nlp, split_sentences, split_text
from coder.sentence_rules import sentence_starts


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_text(text)]


def assert_valid_spans(text: str, spans: list[tuple[int, int]]) -> None:
    """Spans are in order, inside the text, trimmed, and cover every non-space character."""
    covered = [False] * len(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip()
        assert "\n" not in piece
        assert len(piece) <= MAX_CHARS
        assert len(piece.split()) <= MAX_WORDS
        for i in range(start, end):
            covered[i] = True
        previous_end = end
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(text))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Det var godt. Så gik vi hjem.", ["Det var godt.", "Så gik vi hjem."]),
        ("Kom du? Ja! Godt.", ["Kom du?", "Ja!", "Godt."]),
        # speech-like text: no capital after the full stop
        ("det var godt. så gik vi hjem", ["det var godt.", "så gik vi hjem"]),
        # "man." is in spaCy's abbreviation list, but it is the Danish pronoun
        ("Det gør man. Men ikke altid.", ["Det gør man.", "Men ikke altid."]),
        ("Vi så tv. Bagefter sov vi.", ["Vi så tv.", "Bagefter sov vi."]),
    ],
)
def test_segment_basic_ends(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "abbreviation",
    "bl.a. f.eks. ca. kl. s. nr. jf. mht. dvs. osv. evt. mv. m.fl. cand.mag. ph.d. el. hhv. "
    "inkl. ift. pga. vha. mio. mia. kr. stk.".split(),
)
def test_segment_abbreviation_before_lower_case_continues(abbreviation: str) -> None:
    text = f"Det gælder {abbreviation} de fleste af os, sagde hun."
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Vi talte bl.a. Danmark og Sverige igennem.",
        "Tag f.eks. Hans som eksempel.",
        "Det var ca. 10 personer.",
        "Vi mødes kl. 8 i morgen.",
        "Se s. 17 og nr. 5 i bogen.",
        "Det følger af loven, jf. Højesterets dom.",
        "Det var især mht. Sverige, at vi var uenige.",
        "Vi taler om dvs. Norden her.",
        "H.C. Andersen skrev eventyr.",
        "Han mødte J. Jensen i Odense.",
        "Ifølge lektor dr.phil. Henrik Nissen er det rigtigt.",
    ],
)
def test_segment_abbreviation_before_name_or_number_continues(text: str) -> None:
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "Vi købte brød, mælk osv. Derefter gik vi.",
            ["Vi købte brød, mælk osv.", "Derefter gik vi."],
        ),
        ("Det koster 10 mio. kr. Hun betaler.", ["Det koster 10 mio. kr.", "Hun betaler."]),
        ("Vi mødes kl. 8. Derefter spiser vi.", ["Vi mødes kl. 8.", "Derefter spiser vi."]),
        ("Se § 17, stk. 2. Det står der.", ["Se § 17, stk. 2.", "Det står der."]),
        ("Hun er ph.d. Hun forsker.", ["Hun er ph.d.", "Hun forsker."]),
        ("Det var i 1990. det husker jeg", ["Det var i 1990.", "det husker jeg"]),
    ],
)
def test_segment_abbreviation_or_number_before_capital_ends(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Den 3. maj kom lovforslaget til 2. behandling i Folketinget.",
        "Mødet er den 1. november på kontoret.",
        "Holdet endte på en 32. plads.",
        "Det står i § 17, stk. 2, i loven.",
    ],
)
def test_segment_ordinals_and_dates_continue(text: str) -> None:
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Jeg tror (...) at det var godt.", ["Jeg tror (...) at det var godt."]),
        ("Jeg tror [...] Hans var der.", ["Jeg tror [...] Hans var der."]),
        ("Vi kom (...). Det var sent.", ["Vi kom (...).", "Det var sent."]),
        ("Det var godt. (...) så gik vi.", ["Det var godt.", "(...) så gik vi."]),
        ("Det var godt. [...] Så gik vi.", ["Det var godt.", "[...] Så gik vi."]),
    ],
)
def test_segment_elisions_never_end_a_sentence(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Jeg tror... at det var godt.", ["Jeg tror... at det var godt."]),
        ("Jeg tror ... at det var godt.", ["Jeg tror ... at det var godt."]),
        ("Jeg ved ikke... Det var svært.", ["Jeg ved ikke...", "Det var svært."]),
        ("Jeg ved ikke… Det var svært.", ["Jeg ved ikke…", "Det var svært."]),
        # a trailing-off quotation closes the sentence
        ('"og så videre..." det var det', ['"og så videre..."', "det var det"]),
        # a new utterance opens after the trailing-off
        ("Jeg ved ikke... »det var svært«", ["Jeg ved ikke...", "»det var svært«"]),
        ("... Og så", ["... Og så"]),
    ],
)
def test_segment_ellipsis_ends_only_before_a_capital(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Det var sjovt [griner] og så gik vi.", ["Det var sjovt [griner] og så gik vi."]),
        ("Ja. [pause] Nej.", ["Ja. [pause]", "Nej."]),
        ("Det var sjovt. [griner]", ["Det var sjovt. [griner]"]),
    ],
)
def test_segment_stage_directions_stay_with_their_sentence(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ('Han kom. "Det gør jeg ikke," sagde han.', ["Han kom.", '"Det gør jeg ikke," sagde han.']),
        ("Han kom. »Nej,« sagde han. »Ja!«", ["Han kom.", "»Nej,« sagde han.", "»Ja!«"]),
        (
            '"Hvad nu?" spurgte hun. Vi svarede ikke.',
            ['"Hvad nu?" spurgte hun.', "Vi svarede ikke."],
        ),
        ("»Stop!« råbte han.", ["»Stop!« råbte han."]),
        ('"Hvad nu?", spurgte hun.', ['"Hvad nu?", spurgte hun.']),
        ("Han kom (i går). Vi så ham.", ["Han kom (i går).", "Vi så ham."]),
        ('Han sagde: "Vi kommer." Så gik han.', ['Han sagde: "Vi kommer."', "Så gik han."]),
        # a quoted sentence that lost its end mark
        ("»hvad skal vi nu« det ved jeg ikke", ["»hvad skal vi nu«", "det ved jeg ikke"]),
        ('Han bruger en "jernnæve" over for dem.', ['Han bruger en "jernnæve" over for dem.']),
    ],
)
def test_segment_quotes(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Ja\nnej", ["Ja", "nej"]),
        ("Vi mødes kl.\nDet er fint", ["Vi mødes kl.", "Det er fint"]),
        ("  Det var\r\n\n  godt  ", ["Det var", "godt"]),
        ("\n\n", []),
        ("", []),
    ],
)
def test_segment_line_break_always_ends(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_segment_speaker_label_in_flat_transcript_starts_a_sentence() -> None:
    text = "det var det Birgit: ja det synes jeg"
    assert sentences(text) == ["det var det", "Birgit: ja det synes jeg"]
    # a colon after a name that is part of the sentence is not a label
    text = "Det siger Poul Ebbe Nielsen: Det var godt."
    assert sentences(text) == [text]


def test_segment_offsets_round_trip() -> None:
    text = "  I går kom hun. »Nej!« sagde han.\n\nDet var (...) godt... Og så videre  \n"
    spans = split_text(text)
    assert [text[s:e] for s, e in spans] == [
        "I går kom hun.",
        "»Nej!« sagde han.",
        "Det var (...) godt...",
        "Og så videre",
    ]
    assert_valid_spans(text, spans)


def _long_text(n_words: int, every: int | None = None, mark: str = ",") -> str:
    words = []
    for i in range(n_words):
        word = f"ord{i}"
        if every and i % every == every - 1:
            word += mark
        words.append(word)
    return " ".join(words)


def test_segment_long_sentence_is_cut_at_a_comma() -> None:
    text = _long_text(150, every=12)
    spans = split_text(text)
    assert len(spans) == 3
    assert_valid_spans(text, spans)
    assert all(text[s:e].endswith(",") for s, e in spans[:-1])


def test_segment_long_sentence_is_cut_before_a_conjunction() -> None:
    words = _long_text(100).split()
    words[45] = "men"
    text = " ".join(words)
    spans = split_text(text)
    assert [text[s:e].split()[0] for s, e in spans] == ["ord0", "men"]
    assert_valid_spans(text, spans)


def test_segment_long_sentence_without_cues_is_cut_at_a_space() -> None:
    text = _long_text(3 * MAX_WORDS + 7)
    spans = split_text(text)
    assert len(spans) == 4
    assert_valid_spans(text, spans)
    assert (
        max(len(text[s:e].split()) for s, e in spans)
        - min(len(text[s:e].split()) for s, e in spans)
        <= 2
    )  # balanced pieces, not a long run and a stub


def test_segment_overlong_word_is_cut_inside() -> None:
    text = "a" * (2 * MAX_CHARS + 10) + " slut."
    spans = split_text(text)
    assert_valid_spans(text, spans)
    assert len(spans) == 3


def test_segment_normal_long_sentence_is_not_cut() -> None:
    text = (
        "Da vi kom hjem fra ferien i Italien, hvor vi havde boet i et lille hus ved havet "
        "sammen med min søster og hendes to børn, opdagede vi, at nogen havde været inde i "
        "huset og taget både fjernsynet og computeren, som vi havde glemt at gemme væk."
    )
    assert sentences(text) == [text]


DANISH_ALPHABET = st.sampled_from(
    list("abcdefæøåABCÆØÅ ")
    + [" ", "\n", "\t", "\r", "\u00a0", ".", ",", "?", "!", ":"]
    + ["...", "…", "(...)", "[...]", '"', "»", "«", "'", "(", ")", "[", "]", "-", "§", "7"]
    + ["bl.a.", "kl.", "osv.", "2.", "Hans", "og", "I:", "[griner]", "\u2028"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(DANISH_ALPHABET, max_size=120).map("".join))
def test_segment_spans_are_valid_for_any_text(text: str) -> None:
    assert_valid_spans(text, split_text(text))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_segment_spans_are_valid_for_any_unicode(text: str) -> None:
    assert_valid_spans(text, split_text(text))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.sampled_from(["ord", "og", "men,", "tja...", "-"]), min_size=100, max_size=400))
def test_segment_spans_are_valid_for_long_unpunctuated_text(words: list[str]) -> None:
    text = " ".join(words)
    assert_valid_spans(text, split_text(text))


def _transcript(lines: list[tuple[str | None, str]]) -> Transcript:
    """Build a transcript as ingest would: turns cover the text after the `Name: ` label."""
    text, turns, pos = "", [], 0
    for speaker, spoken in lines:
        label = f"{speaker}: " if speaker else ""
        start = pos + len(label)
        turns.append(
            Turn(
                speaker=speaker or "",
                role="interviewer" if speaker == "I" else "informant",
                start=start,
                end=start + len(spoken),
                label_start=pos if speaker else None,
            )
        )
        text += label + spoken + "\n"
        pos = len(text)
    return Transcript(name="t", text=text, turns=tuple(turns))


def test_segment_split_sentences_maps_offsets_to_the_document() -> None:
    transcript = _transcript(
        [
            ("I", "Hvordan gik det? Fortæl."),
            ("Birgit", "Det gik godt (...) tror jeg. Vi var glade.\nMen trætte."),
            ("I", "Og så?"),
            (None, "[griner]"),
        ]
    )
    segments = split_sentences(transcript)
    text = transcript.text
    assert [(s.turn, text[s.start : s.end]) for s in segments] == [
        (0, "Hvordan gik det?"),
        (0, "Fortæl."),
        (1, "Det gik godt (...) tror jeg."),
        (1, "Vi var glade."),
        (1, "Men trætte."),
        (2, "Og så?"),
        (3, "[griner]"),
    ]
    assert [s.index for s in segments] == list(range(len(segments)))
    assert all(isinstance(s, Segment) for s in segments)
    for s in segments:
        turn = transcript.turns[s.turn]
        assert turn.start <= s.start < s.end <= turn.end


def test_segment_split_sentences_skips_empty_turns() -> None:
    transcript = _transcript([("I", "   "), ("Hans", "Ja.")])
    segments = split_sentences(transcript)
    assert [(s.turn, s.index) for s in segments] == [(1, 0)]


def test_segment_pipeline_sets_sentence_starts() -> None:
    nlp = load_nlp()
    assert nlp.pipe_names == ["coder_sentence_rules"]
    assert load_nlp() is nlp  # cached
    doc = nlp("Vi kom kl. 8. Derefter spiste vi, f.eks. brød.")
    assert [s.text for s in doc.sents] == ["Vi kom kl. 8.", "Derefter spiste vi, f.eks. brød."]


def test_segment_rules_work_on_plain_token_lists() -> None:
    words = ["Hej", ".", " ", "Du", "?", "ja"]
    spaces = [False, True, False, False, True, False]
    assert sentence_starts(words, spaces) == [True, False, False, True, False, True]
    assert sentence_starts([], []) == []


def test_segment_import_does_not_import_spacy() -> None:
    code = "import sys, coder.segment; assert 'spacy' not in sys.modules, 'spacy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
