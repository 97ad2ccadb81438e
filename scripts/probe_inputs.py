"""Replay the bad inputs and faults of issue 15 against the `coder` command line; print pass/fail.

Every case builds its input in a temporary folder, runs the real command in a fresh process and
checks what the README promises for a user error: exit code 1, one line on stderr, no traceback,
no interview text (each bad input carries the marker below, which must never be echoed) and the
project database byte-for-byte unchanged. A few cases check the opposite promise: the command
works (a read-only project can be read, odd names render) or warns instead of staying silent.
Web-only items (15.1, 15.2, 15.7, 15.14) and the two-session race (15.9) are in the test suite.

    .venv/bin/python scripts/probe_inputs.py        # about a minute; exit code 1 if a case fails
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "CPR 010203-1234"  # stands for interview text: no message may contain it
TRANSCRIPT = (
    "Informant: Lene\n\nI: Hvorfor stoppede du som borgmester?\n\n"
    "Lene: Det var truslerne. Jeg fik en dødstrussel, og så tænkte jeg, nu er det nok.\n\n"
    "I: Var der andet?\n\nLene: Ja, byrådet. Det var svært at samarbejde om budgettet.\n"
)


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Case:
    item: str
    name: str
    build: Callable[[Path, Path], list[str]]  # (project copy, work folder) -> command arguments
    expect: str = "error"  # "error": one-sentence user error; "ok": exit 0; "warn": exit 0 with a warning
    check: Callable[[Path, Path, Run], str | None] | None = None  # extra check: a reason to fail, or None
    limit_fsize: int | None = None  # RLIMIT_FSIZE for the command: a write failure like a full disk
    unprivileged: bool = False  # drop the capability that lets root ignore chmod
    timeout: int = 90  # seconds; a refused bomb fails in one


def coder(args: list[str], cwd: Path, *, limit_fsize: int | None = None, unprivileged: bool = False, timeout: int = 90) -> Run:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # a decompression bomb must not take the machine
        if limit_fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_fsize, limit_fsize))

    cmd = [sys.executable, "-m", "coder", *args]
    if unprivileged and os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CODER_HOME": str(cwd / "home")}
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=limits)
    except subprocess.TimeoutExpired:
        return Run(-1, "", f"timed out after {timeout} s\n")
    return Run(p.returncode, p.stdout, p.stderr)


def state(project: Path) -> str:
    """The store's bytes (file and write-ahead log): a failed command must leave them as they were."""
    h = hashlib.sha256((project / "coder.db").read_bytes())
    wal = project / "coder.db-wal"  # a reader may leave an empty one
    h.update(wal.read_bytes() if wal.is_file() else b"")
    return h.hexdigest()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def zip_with(path: Path, members: dict[str, bytes], bomb: tuple[str, bytes, bytes, bytes] | None = None) -> Path:
    """A ZIP with the given members, and optionally a bomb: (member, head, unit repeated to 300 MB, tail),
    valid content that inflates from about 1 MB, so only a size check can refuse it."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        if bomb:
            name, head, unit, tail = bomb
            with z.open(name, "w", force_zip64=True) as f:
                f.write(head)
                chunk = unit * (1_000_000 // len(unit))
                for _ in range(300):
                    f.write(chunk)
                f.write(tail)
    return path


DOCX_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document '
             b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
DOCX_UNIT = b"<w:p><w:r><w:t>Lene: ja.</w:t></w:r></w:p>"
DOCX_TAIL = b"</w:body></w:document>"


def docx_bytes() -> dict[str, bytes]:
    import docx

    d = docx.Document()
    d.add_paragraph(f"I: Hvorfor? Lene: {SECRET}.")
    buf = Path(tempfile.mkdtemp()) / "x.docx"
    d.save(str(buf))
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist()}


def qdpx_of(project: Path, work: Path) -> Path:
    out = work / "export.qdpx"
    run = coder(["export", str(project), "--format", "qdpx", "--out", str(out)], work)
    assert run.code == 0, run.err
    return out


def rewrite_member(src: Path, dst: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as b:
        for name in a.namelist():
            b.writestr(name, change(name, a.read(name)))
    return dst


def codebook_with(work: Path, extra: str) -> Path:
    text = (ROOT / "data/codebooks/politisk-exit.yaml").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("version:")]
    return write(work / "book.yaml", extra + "\n" + "\n".join(lines) + "\n")


def no_output(*names: str) -> Callable[[Path, Path, Run], str | None]:
    def check(project: Path, work: Path, run: Run) -> str | None:
        left = [p.name for p in work.iterdir() if p.name.startswith(names) or ".part" in p.name]
        return f"left behind: {', '.join(left)}" if left else None

    return check


def stderr_has(text: str) -> Callable[[Path, Path, Run], str | None]:
    return lambda project, work, run: None if text in run.err else f"stderr lacks {text!r}"


def damaged(project: Path) -> None:
    db = project / "coder.db"
    with db.open("r+b") as f:
        f.seek(4096)
        f.write(b"\xa5" * (db.stat().st_size - 4096))


def read_only(project: Path) -> None:
    (project / "coder.db").chmod(0o444)
    project.chmod(0o555)


def markdown_escaped(project: Path, work: Path, run: Run) -> str | None:
    md = (work / "r.md").read_text(encoding="utf-8")
    return "raw <script> in the Markdown report" if "<script>" in md else None


SRT = f"1\n00:00:01,000 --> 00:00:03,000\nI: Hvorfor?\n\n2\n00:00:03,500 -> 00:00:06,000\nLene: {SECRET}\n\n3\n00:00:06,100 --> 00:00:08,000\nLene: Ja.\n"
VTT = f"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v I>Hvorfor?\n\n00:00:03.500 --> 00:00:0x.000\n<v Lene>{SECRET}\n\n00:00:06.100 --> 00:00:08.000\n<v Lene>Ja.\n"
STARTS: dict[str, int] = {}  # sentence offsets of the base project, for coding files


def case_list() -> list[Case]:
    first = lambda: STARTS  # noqa: E731  (filled in by base_project)
    return [
        Case("15.3", "malformed .srt names line, not content",
             lambda p, w: ["ingest", str(p), str(write(w / "a.srt", SRT))]),
        Case("15.3", "metadata YAML error names line, not content",
             lambda p, w: ["ingest", str(p), str(write(w / "b.txt", TRANSCRIPT)), "--metadata",
                           str(write(w / "m.yaml", f"b.txt:\n  informant: Lene\n  cpr: [{SECRET}\n"))]),
        Case("15.3", "metadata CSV error names line, not content",
             lambda p, w: ["ingest", str(p), str(write(w / "b.txt", TRANSCRIPT)), "--metadata",
                           str(write(w / "m.csv", f'file,informant,note\nb.txt,Lene,"{SECRET}{"x" * 200_000}"\n'))]),
        Case("15.4", ".vtt cue with malformed timing fails", lambda p, w: ["ingest", str(p), str(write(w / "a.vtt", VTT))]),
        Case("15.4", ".srt cue with a malformed timestamp fails",
             lambda p, w: ["ingest", str(p), str(write(w / "a.srt", SRT.replace(" -> ", " --> ").replace("00:00:03,500", "00:00:03;500")))]),
        Case("15.4", "--skip-bad-cues leaves them out, counted", lambda p, w: ["ingest", str(p), str(write(w / "a.vtt", VTT)), "--skip-bad-cues"],
             expect="warn", check=stderr_has("left out 1 cue(s) without a readable timing line (line 6)")),
        Case("15.5", "unknown code in --seed-data (bundled seed exists)",
             lambda p, w: ["train", str(p), "--encoder", "tfidf.v1", "--seed-data",
                           str(write(w / "s.jsonl", json.dumps({"text": SECRET, "codes": ["h9.nope"]}) + "\n"))],
             check=stderr_has("--skip-unknown")),
        Case("15.6", "unknown stance in import-codings",
             lambda p, w: ["import-codings", str(p), str(write(w / "c.jsonl", json.dumps(
                 {"document": "lene", "start": first()["start"], "end": first()["end"], "codes": ["h3.harassment"], "stance": "sometimes"}) + "\n")),
                 "--coder", "anna"]),
        Case("15.6", "unknown stance in seed data",
             lambda p, w: ["train", str(p), "--encoder", "tfidf.v1", "--no-bundled-seed", "--seed-data", str(write(w / "s.jsonl", json.dumps(
                 {"text": SECRET, "codes": ["h3.harassment"], "stance": "sometimes"}) + "\n"))]),
        Case("15.8", "decompression bomb in a .docx",
             lambda p, w: ["ingest", str(p), str(zip_with(w / "bomb.docx", {k: v for k, v in docx_bytes().items() if k != "word/document.xml"},
                                                           ("word/document.xml", DOCX_HEAD, DOCX_UNIT, DOCX_TAIL)))], timeout=20),
        Case("15.8", "decompression bomb in a .qdpx",
             lambda p, w: ["ingest", str(p), str(_qdpx_bomb(p, w))], timeout=20),
        Case("15.10", "read-only project: status reads it", lambda p, w: (read_only(p), ["status", str(p)])[1], expect="ok", unprivileged=True),
        Case("15.10", "read-only project: ingest says it needs write access",
             lambda p, w: (read_only(p), ["ingest", str(p), str(write(w / "b.txt", TRANSCRIPT))])[1], unprivileged=True,
             check=stderr_has("needs write access")),
        Case("15.11", "damaged pages: status", lambda p, w: (damaged(p), ["status", str(p)])[1], check=stderr_has("is damaged")),
        Case("15.11", "damaged pages: export", lambda p, w: (damaged(p), ["export", str(p), "--out", str(w / "x.jsonl")])[1],
             check=no_output("x.jsonl")),
        Case("15.11", "damaged pages: ingest writes nothing", lambda p, w: (damaged(p), ["ingest", str(p), str(write(w / "b.txt", TRANSCRIPT))])[1]),
        Case("15.12", "write failure (file size limit): export", lambda p, w: ["export", str(p), "--out", str(w / "x.jsonl")],
             limit_fsize=600, check=no_output("x.jsonl", ".x.jsonl")),
        Case("15.12", "write failure (file size limit): HTML report", lambda p, w: ["score", str(p), "--html", str(w / "r.html")],
             limit_fsize=2000, check=no_output("r.html", ".r.html")),
        Case("15.13", "UTF-16 with an odd byte count",
             lambda p, w: ["ingest", str(p), str(_bytes(w / "u.txt", b"\xff\xfe" + f"Lene: {SECRET}".encode("utf-16-le") + b"x"))]),
        Case("15.13", "damaged docx XML",
             lambda p, w: ["ingest", str(p), str(zip_with(w / "x.docx", {k: v[: len(v) // 2] if k == "word/document.xml" else v
                                                                        for k, v in docx_bytes().items()}))]),
        Case("15.13", "non-UTF-8 text inside a .qdpx",
             lambda p, w: ["ingest", str(p), str(rewrite_member(qdpx_of(p, w), w / "latin.qdpx",
                                                                 lambda n, d: (SECRET + " æøå").encode("utf-16") if n.endswith(".txt") else d))]),
        Case("15.13", "codebook version: \"v2\"", lambda p, w: ["codebook", "use", str(p), str(codebook_with(w, 'version: "v2"'))]),
        Case("15.13", "codebook scoring: mistakes", lambda p, w: ["codebook", "use", str(p), str(codebook_with(w, "version: 2\nscoring:\n  min_segments: two"))]),
        Case("15.13", "$...$ in an informant name (HTML report)", lambda p, w: ["score", str(p), "--html", str(w / "r.html")], expect="ok"),
        Case("15.13", "--port 70000", lambda p, w: ["serve", str(p), "--port", "70000"]),
        Case("15.15", "zero-length coder.db", lambda p, w: ((p / "coder.db").write_bytes(b""), ["status", str(p)])[1]),
        Case("15.15", ".qdpx selection out of range is reported",
             lambda p, w: ["import-codings", str(p), str(rewrite_member(qdpx_of(p, w), w / "sel.qdpx", _stretch_selection)), "--coder", "bo"],
             expect="reported"),
        Case("15.15", "sidecar entry matching no file is warned",
             lambda p, w: ["ingest", str(p), str(write(w / "b.txt", TRANSCRIPT.replace("Lene", "Ole"))), "--metadata",
                           str(write(w / "m.csv", "file,informant\nb.txt,Ole\nbb.txt,Typo\n"))],
             expect="warn", check=stderr_has("the entry for 'bb.txt' matches no transcript file")),
        Case("15.15", "Markdown report escapes transcript HTML", lambda p, w: ["score", str(p), "--markdown", str(w / "r.md")],
             expect="ok", check=markdown_escaped),
    ]


def _qdpx_bomb(project: Path, work: Path) -> Path:
    """The project's own export with its first source text replaced by 300 MB of speech."""
    with zipfile.ZipFile(qdpx_of(project, work)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    source = next(n for n in members if n.endswith(".txt"))
    del members[source]
    return zip_with(work / "bomb.qdpx", members, (source, b"I: Hvorfor?\n\n", b"Lene: ja. ", b"\n"))


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _stretch_selection(name: str, data: bytes) -> bytes:
    if name != "project.qde":
        return data
    text = data.decode("utf-8")
    at = text.index('endPosition="') + len('endPosition="')
    end = text.index('"', at)
    return (text[:at] + "999999" + text[end:]).encode("utf-8")


def base_project(work: Path) -> Path:
    """One small project: a transcript whose informant is named "$a$ b$c" and whose text holds HTML,
    with one human-coded sentence (so reports and exports have something to write)."""
    project = work / "base"
    transcript = write(work / "lene.txt", TRANSCRIPT.replace("Informant: Lene", "Informant: $a$ b$c").replace(
        "Ja, byrådet.", "Ja, byrådet <script>alert(1)</script>."))
    for args in (["init", str(project)], ["ingest", str(project), str(transcript)]):
        run = coder(args, work)
        assert run.code == 0, run.err
    rows = [json.loads(x) for x in coder(["sentences", str(project), "--speaker", "informant", "--json"], work).out.splitlines()]
    STARTS.update(start=rows[0]["start"], end=rows[0]["end"])
    codings = write(work / "codings.jsonl", "".join(
        json.dumps({"document": "lene", "start": r["start"], "end": r["end"], "codes": ["h3.harassment"]}) + "\n" for r in rows[:3]))
    run = coder(["import-codings", str(project), str(codings), "--coder", "anna"], work)
    assert run.code == 0, run.err
    return project


def judge(case: Case, run: Run, before: str, after: str | None, project: Path, work: Path) -> str | None:
    """A reason the case fails, or None."""
    if run.code == -1:
        return run.err.strip()
    if "Traceback" in run.err:
        return "traceback: " + run.err.strip().splitlines()[-1][:80]
    if SECRET in run.err or SECRET in run.out:
        return "interview text in the output"
    if case.expect == "error":
        if run.code != 1:
            return f"exit {run.code}, expected 1"
        if run.err.count("\n") != 1 or not run.err.startswith("Error: "):
            return f"{run.err.count(chr(10))} lines on stderr, expected one 'Error: ...'"
        if after != before:
            return "the project database changed"
    elif case.expect == "ok" and run.code != 0:
        return f"exit {run.code}: {run.err.strip()[:80]}"
    elif case.expect == "warn" and (run.code != 0 or "Warning:" not in run.err):
        return f"exit {run.code}, expected 0 with a warning"
    elif case.expect == "reported" and not (run.code == 1 or "Warning:" in run.err):
        return f"exit {run.code} and no warning: dropped silently"
    return case.check(project, work, run) if case.check else None


def main() -> int:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        base = base_project(root)
        for i, case in enumerate(case_list()):
            work = root / f"case{i}"
            work.mkdir()
            project = work / "p"
            shutil.copytree(base, project)
            try:
                args = case.build(project, work)
                before = state(project)  # after the case damaged or emptied it on purpose
                # With a file size limit, SQLite must find its shared-memory file made already: hold it open.
                holder = sqlite3.connect(project / "coder.db") if case.limit_fsize else None
                if holder:
                    holder.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                run = coder(args, work, limit_fsize=case.limit_fsize, unprivileged=case.unprivileged, timeout=case.timeout)
                if holder:
                    holder.close()
                project.chmod(0o755)
                (project / "coder.db").chmod(0o644)
                after = state(project)
                reason = judge(case, run, before, after, project, work)
            except Exception as e:  # noqa: BLE001 - a probe that cannot build its input is a failed case, not a crash
                reason, run = f"probe could not run: {e}", Run(-1, "", "")
            results.append((case, reason, run))
            print(f"{'pass' if reason is None else 'FAIL'}  {case.item:<6}{case.name}", file=sys.stderr)
    print(f"\n| item | case | result | stderr or reason |\n|---|---|---|---|")
    for case, reason, run in results:
        shown = (run.err.strip().splitlines() or [""])[-1][:110] if reason is None else reason
        print(f"| {case.item} | {case.name} | {'pass' if reason is None else '**FAIL**'} | {shown.replace('|', '/')} |")
    failed = sum(r is not None for _, r, _ in results)
    print(f"\n{len(results) - failed} of {len(results)} cases pass.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
