"""coder: NLP-assisted coding of qualitative interview transcripts, Danish first."""

from __future__ import annotations

from .codebook import Codebook, load_codebook
from .errors import CoderError
from .ingest import read_transcript
from .project import Project
from .records import Segment, Transcript, Turn

__all__ = ["Codebook", "CoderError", "Project", "Segment", "Transcript", "Turn", "load_codebook", "read_transcript"]
__version__ = "0.1.0"
