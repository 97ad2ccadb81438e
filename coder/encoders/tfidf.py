"""Word and character n-gram features: no torch, fitted on the training texts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any



class TfidfEncoder:
    """A tf-idf vectoriser over word 1-2-grams and character 2-5-grams (within word boundaries)."""

    name = "tfidf.v1"
    trainable = True

    def __init__(self) -> None:
        self.vectorizer_: Any = None

    def fit(self, texts: Sequence[str]) -> TfidfEncoder:
        from sklearn.pipeline import FeatureUnion
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer_ = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
            ]
        )
        self.vectorizer_.fit(list(texts))
        return self

    def encode(self, texts: Sequence[str], *, query: bool = False, progress: bool = False) -> Any:
        if self.vectorizer_ is None:
            raise RuntimeError("TfidfEncoder.encode called before fit")
        return self.vectorizer_.transform(list(texts))
