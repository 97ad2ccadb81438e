"""Learning while reviewing: retrain in the background and tell the reviewer when to stop.

The retrainer counts decisions; after every ``every`` of them it trains a new model in a thread
(decisions + seed data, the same recipe as ``coder train``) and stores its proposals, so the
queue and the model shown change while the reviewer keeps working: reviewing never waits. Such a
head round is quick because the encoder stays as it is. After every ``encoder_every`` decisions
the round fine-tunes the encoder's top layers on all labels instead (contrastive, minutes on a
CPU, still in the background); later head rounds start from that encoder.

Stopping indicator (advice only): after each round, Cohen's kappa between the previous and the new
model's proposals on the sentences nobody has reviewed (small-text's KappaAverage idea: a model
that has stopped changing its mind), averaged over the last three rounds, plus the agreement of the
newest proposals with the reviewer's recent decisions.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any

from ..i18n import DEFAULT_LANGUAGE, N_, translator

# Decisions between background encoder rounds (contrastive fine-tuning, minutes on a CPU); see the README.
ENCODER_EVERY = 200
# Contrastive batches in one background encoder round (about 1.4 s each on 2 free cores): bounds its time.
ROUND_BATCHES = 120
STABLE_KAPPA = 0.9  # KappaAverage's usual stopping threshold
ROUNDS = 3


class Retrainer:
    def __init__(self, project_path: Path, *, every: int = 10, encoder_every: int = ENCODER_EVERY):
        self.path = Path(project_path)
        self.every = every
        self.encoder_every = encoder_every
        self.pending = 0
        self.since_encoder = 0
        self.history: list[dict[str, Any]] = []
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def note_decision(self) -> bool:
        """Count one decision; start a round when enough have come in. Return whether one started."""
        if self.every <= 0:
            return False
        with self._lock:
            self.pending += 1
            self.since_encoder += 1
            if self.pending < self.every or self.running:
                return False
            self.pending = 0
            encoder = 0 < self.encoder_every <= self.since_encoder
            if encoder:
                self.since_encoder = 0
            self._thread = threading.Thread(target=self.run_round, kwargs={"encoder": encoder}, name="coder-retrain", daemon=True)
            self._thread.start()
            return True

    def run_round(self, *, encoder: bool = False) -> dict[str, Any] | None:
        """Train, precode and compare with the previous model (also callable without a thread).

        ``encoder``: fine-tune the encoder contrastively this round; otherwise fit the head on the
        newest fine-tuned encoder the project has (or the base encoder).
        """
        from ..classify.contrastive import ContrastiveSettings
        from ..classify.train import TrainSettings
        from ..errors import CoderError
        from ..project import Project

        start = time.perf_counter()
        try:
            with Project.open(self.path) as proj:
                previous = proj.store.latest_model()
                settings = (TrainSettings(contrastive=True, contrastive_settings=ContrastiveSettings(max_batches=ROUND_BATCHES))
                            if encoder else TrainSettings(contrastive=False, base_delta=proj.latest_encoder_delta()))
                result = proj.train(settings)
                proj.precode(result.model.id)
                kappa = proj.model_agreement(previous["id"], result.model.id) if previous else None
        except CoderError as e:
            self.error = str(e)
            return None
        except Exception:  # a bug: keep the server alive, show it in the log
            traceback.print_exc()
            self.error = N_("Retraining failed; see the server log.")
            return None
        self.error = None
        entry = {"model": result.model.id, "kind": "encoder" if encoder else "head",
                 "seconds": round(time.perf_counter() - start, 1), "kappa_previous": kappa,
                 "examples": result.model.training.get("examples")}
        self.history.append(entry)
        return entry

    def status(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """Rounds, kappa between them and the stopping advice, the texts in ``lang``."""
        _ = translator(lang)
        kappas = [h["kappa_previous"] for h in self.history[-ROUNDS:] if h["kappa_previous"] is not None]
        avg = sum(kappas) / len(kappas) if kappas else None
        stable = len(kappas) >= ROUNDS and avg is not None and avg >= STABLE_KAPPA
        return {
            "running": self.running, "rounds": len(self.history), "pending": self.pending, "every": self.every,
            "encoder_every": self.encoder_every, "until_encoder": max(0, self.encoder_every - self.since_encoder) if self.encoder_every > 0 else None,
            "last": self.history[-1] if self.history else None, "kappa_average": avg, "stable": stable,
            "error": None if self.error is None else _(self.error),  # a CoderError's sentence stays as raised
            "advice": _("The model has stopped changing its mind (kappa between rounds >= 0.9): further review mostly "
                        "confirms it.") if stable else _("Keep reviewing: the model is still learning."),
        }
