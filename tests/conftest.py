"""Shared fixtures (all of them live here, as in spaCy's test policy)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def coder_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's real data folder."""
    home = tmp_path_factory.mktemp("coder-home")
    monkeypatch.setenv("CODER_HOME", str(home))
    return home


@pytest.fixture
def serve():
    """Start ASGI apps in real uvicorn servers on free loopback ports; ``serve(app)`` returns the base URL."""
    import uvicorn

    running = []

    def start(app) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        running.append((srv, thread))
        for _ in range(200):
            if srv.started:
                break
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for srv, thread in running:
        srv.should_exit = True
        thread.join(5)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def make_docx(tmp_path: Path):
    """Build a .docx from (bold label, text) paragraphs; a label of None means a plain paragraph."""
    import docx

    def build(paragraphs: list[tuple[str | None, str]], name: str = "interview.docx") -> Path:
        document = docx.Document()
        for label, text in paragraphs:
            p = document.add_paragraph()
            if label:
                p.add_run(label).bold = True
            p.add_run(text)
        path = tmp_path / name
        document.save(str(path))
        return path

    return build


@pytest.fixture
def project(tmp_path: Path):
    """An empty project with the mini codebook."""
    from coder import Project

    proj = Project.init(tmp_path / "proj", DATA / "mini-codebook.yaml")
    yield proj
    proj.close()


@pytest.fixture
def ingested(project, tmp_path: Path):
    """The mini project with lene.txt ingested."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(DATA / "lene.txt", src / "lene.txt")
    project.add_transcripts([src / "lene.txt"])
    return project


# Danish words for the tiny encoder's vocabulary; tests that fine-tune it write sentences from these.
TINY_WORDS = (
    "jeg du han hun vi de det der som og men for at i på med til af om er var har havde blev kan skal vil "
    "ikke meget lidt godt svært nu så da når fordi efter før hele tiden altid aldrig nok også bare "
    "penge skat løn budget økonomi regning gæld kroner "
    "mor far børn søster bror familie hjemme kone mand datter søn "
    "job kollega chef arbejde kontor møde byrådet borgmester partiet valget "
    "vejret sommer vinter bil hus have tog bus by kommune ja nej tak hej øh"
).split()


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a tiny 2-layer BERT encoder and a word-level tokenizer offline; return their folder.

    `AutoModel.from_pretrained(folder, add_pooling_layer=False)` and `AutoTokenizer.from_pretrained(folder)`
    load it. The weights are random but fixed (seeded); the vocabulary is `TINY_WORDS` plus
    [PAD]/[UNK]/[CLS]/[SEP]/[MASK], lowercased, so unknown words become [UNK].
    """
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from tokenizers.processors import TemplateProcessing

    folder = tmp_path_factory.mktemp("tiny-encoder")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator([" ".join(TINY_WORDS) + " . , ? !"], trainers.WordLevelTrainer(special_tokens=specials))
    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[(t, tok.token_to_id(t)) for t in ("[CLS]", "[SEP]")],
    )
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=128,
    )
    fast.save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, pad_token_id=tok.token_to_id("[PAD]"),
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformers.BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the e5 encoder once per session into a tmp folder, never into the user's home."""
    from coder.encoders import e5_build

    root = tmp_path_factory.mktemp("e5")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CODER_HOME", str(root / "home"))
        mp.setenv("CODER_E5_CACHE", str(root / "e5"))
        return e5_build.ensure_e5()


@pytest.fixture
def use_e5(e5_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the e5 cache of this test at the session's build."""
    monkeypatch.setenv("CODER_E5_CACHE", str(e5_dir))
    return e5_dir


@pytest.fixture
def seed_file_path(tmp_path: Path) -> Path:
    """A small labelled seed file for the mini codebook (harassment, council, and uncoded sentences)."""
    import json

    rows = [("Jeg fik trusler på Facebook hver uge.", "h3.harassment"), ("Der kom en dødstrussel i postkassen.", "h3.harassment"),
            ("Folk chikanerede mig på nettet.", "h3.harassment"), ("Nogen truede med at brænde huset af.", "h3.harassment"),
            ("Byrådet kunne aldrig blive enige.", "h1.council"), ("Oppositionen blokerede alt i byrådet.", "h1.council"),
            ("Samarbejdet i byrådet var umuligt.", "h1.council"), ("Byrådet var splittet i mange partier.", "h1.council"),
            ("Det var en tirsdag.", None), ("Jeg er uddannet sygeplejerske.", None), ("Ja, det er rigtigt.", None),
            ("Jeg har to børn.", None), ("Det husker jeg ikke.", None), ("Sådan var det bare.", None)]
    path = tmp_path / "seed-mini.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "codes": [c] if c else [], "informant": f"s{i % 3}"}, ensure_ascii=False)
                              for i, (t, c) in enumerate(rows)) + "\n", encoding="utf-8")
    return path
