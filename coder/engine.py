"""Engines that turn sentences into code scores: in this process, or on a Ray cluster.

Both take the texts, interviewer questions and turn windows the driver computed from the store
(`Project.precode`), so an engine only scores: the store, and so the one write transaction, stay
with the driver. The Ray engine ships batches (texts, never the database) to a pool of actors that
each load the model once; a killed actor is restarted and its batches run again, and every batch
lands in its own rows of the result, so a retried batch can never duplicate a proposal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

import numpy as np

from .device import autocast, check_device, place_model
from .errors import CoderError, EngineError, MissingDependencyError

if TYPE_CHECKING:
    from .classify.model import CodeModel

Prediction = tuple[np.ndarray, "np.ndarray | None"]  # (n, k) scores, P(contradicts) per sentence or None
INSTALL_RAY = "pip install 'coder[ray]' (from a checkout: pip install -e \".[ray]\")"
CONNECT_TIMEOUT_S = 5.0


class Engine(Protocol):
    """Scores sentences with a model; ``windows`` are the turn windows of `coder.windows`."""

    def predict(
        self, model: CodeModel, texts: Sequence[str], contexts: Sequence[str],
        windows: Sequence[Sequence[str]] | None, *, progress: bool = False,
    ) -> Prediction: ...


@dataclass(frozen=True, slots=True)
class LocalEngine:
    """Today's path: the model scores everything in this process, on the chosen device."""

    device: str = "auto"

    def __post_init__(self) -> None:
        check_device(self.device)

    def predict(
        self, model: CodeModel, texts: Sequence[str], contexts: Sequence[str],
        windows: Sequence[Sequence[str]] | None, *, progress: bool = False,
    ) -> Prediction:
        with autocast(place_model(model, self.device)):
            return model.predict(texts, contexts, windows, progress=progress)


@dataclass(frozen=True, slots=True)
class BatchStats:
    """What one scored batch reports back: its rows, the worker's process and its peak memory."""

    lo: int
    hi: int
    worker_pid: int
    worker_peak_rss_mb: float


@dataclass(frozen=True, slots=True)
class RayEngine:
    """Score on Ray: a local instance (``address`` None) or an existing cluster (``auto``, ``host:port``, ``ray://host:10001``)."""

    address: str | None = None
    workers: int = 2
    gpus_per_worker: float = 0.0
    batch_size: int = 256
    device: str = "auto"
    retries: int = 3  # restarts of a killed actor, and re-runs of its batches
    on_batch: Callable[[BatchStats], None] | None = None  # called on the driver after each batch

    def __post_init__(self) -> None:
        require_ray()  # say how to install Ray before any work is done
        check_device(self.device)
        if self.workers < 1:
            raise EngineError(f"--workers must be at least 1, got {self.workers}.")
        if self.batch_size < 1:
            raise EngineError(f"--batch-size must be at least 1, got {self.batch_size}.")
        if self.gpus_per_worker < 0:
            raise EngineError(f"--gpus-per-worker cannot be negative, got {self.gpus_per_worker}.")

    def predict(
        self, model: CodeModel, texts: Sequence[str], contexts: Sequence[str],
        windows: Sequence[Sequence[str]] | None, *, progress: bool = False,
    ) -> Prediction:
        from tqdm.auto import tqdm

        n = len(texts)
        P = np.zeros((n, len(model.codes)))
        contra: np.ndarray | None = None
        spans = [(lo, min(lo + self.batch_size, n)) for lo in range(0, n, self.batch_size)]

        def task(actor: Any, lo: int, hi: int) -> Any:
            return actor.score.remote(list(texts[lo:hi]), list(contexts[lo:hi]), None if windows is None else list(windows[lo:hi]), lo, hi)

        with self.pool(model) as actors, tqdm(total=n, desc="scoring on Ray", unit="sent", disable=not progress) as bar:
            for (lo, hi), scores, con, stats in run_pool(actors, spans, task):
                P[lo:hi] = scores
                if con is not None:
                    contra = np.zeros(n) if contra is None else contra
                    contra[lo:hi] = con
                bar.update(hi - lo)
                if self.on_batch is not None:
                    self.on_batch(stats)
        return P, contra

    @contextlib.contextmanager
    def pool(self, model: CodeModel) -> Iterator[list[Any]]:
        """Connect (or start a local Ray), start ``workers`` actors holding ``model``, yield them, clean up."""
        ray = require_ray()
        with self._session():
            ref = ray.put(dataclasses.replace(model, _encoder=None))  # weights load on the worker, once
            options: dict[str, Any] = {
                "num_cpus": 1, "num_gpus": self.gpus_per_worker, "max_restarts": self.retries, "max_task_retries": self.retries,
            }
            if self.address is None:  # a local Ray: workers see the driver's CODER_* settings (e5 cache, bf16)
                options["runtime_env"] = {"env_vars": {k: v for k, v in os.environ.items() if k.startswith("CODER_")}}
            actor_cls = ray.remote(**options)(Scorer)
            actors = [actor_cls.remote(ref, self.device) for _ in range(self.workers)]
            try:
                for problem in ray.get([a.ready.remote() for a in actors]):
                    if problem:
                        raise EngineError(f"A Ray worker could not load the model: {problem}")
                yield actors
            finally:
                for a in actors:
                    ray.kill(a)

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        """Use a Ray that is already running in this process, else connect or start one and stop it after."""
        ray = require_ray()
        if ray.is_initialized():
            yield
            return
        if self.address is None:
            ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        else:
            _check_reachable(self.address)
            try:
                ray.init(address=self.address, log_to_driver=False, logging_level="ERROR")
            except ConnectionError as e:
                raise EngineError(f"No Ray cluster at '{self.address}' ({_first_line(e)}); check --address or start one with 'ray start --head'.") from e
        try:
            yield
        finally:
            ray.shutdown()


def make_engine(name: str, *, device: str = "auto", **ray_options: Any) -> Engine:
    """The engine named on the command line: ``local`` or ``ray`` (with `RayEngine`'s options)."""
    if name == "local":
        return LocalEngine(device)
    if name == "ray":
        return RayEngine(device=device, **ray_options)
    raise EngineError(f"Unknown engine '{name}'; use local or ray.")


def run_pool(actors: Sequence[Any], spans: Sequence[tuple[int, int]], task: Callable[[Any, int, int], Any]) -> Iterator[Any]:
    """Run ``task(actor, lo, hi)`` for every span, two in flight per actor, yielding results as they finish.

    A free actor takes the next span, so a slow or restarted worker gets less work; Ray re-runs the
    tasks of a killed actor on its restarted process (``max_task_retries``).
    """
    ray = require_ray()
    todo = iter(spans)
    pending: dict[Any, Any] = {}

    def submit(actor: Any) -> None:
        span = next(todo, None)
        if span is not None:
            pending[task(actor, *span)] = actor

    for actor in actors:
        submit(actor)
        submit(actor)
    while pending:
        (done,), _ = ray.wait(list(pending), num_returns=1)
        actor = pending.pop(done)
        try:
            yield ray.get(done)
        except ray.exceptions.RayActorError as e:
            raise EngineError(f"A Ray worker died and its batch failed after every retry ({_first_line(e)}); check the workers' memory and logs.") from e
        submit(actor)


class Scorer:
    """A Ray actor's state: the model (and its encoder weights) loaded once per worker process."""

    def __init__(self, model: CodeModel, device: str):
        self.model = model
        self.problem = ""
        self.device = "cpu"
        try:
            self.device = place_model(model, device)
            enc = model.get_encoder()
            getattr(enc, "load", lambda: None)()  # weights now, not inside the first batch
        except CoderError as e:  # reported by `ready`, so the driver can say it in one sentence
            self.problem = str(e)
            return
        torch = sys.modules.get("torch")
        if torch is not None:  # the encoder sets one thread per core; Ray gave this worker its share
            torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))

    def ready(self) -> str:
        return self.problem

    def score(self, texts: list[str], contexts: list[str], windows: list[tuple[str, ...]] | None, lo: int, hi: int) -> Any:
        with autocast(self.device):
            P, contra = self.model.predict(texts, contexts, windows)
        return (lo, hi), P, contra, self.stats(lo, hi)

    def apply(self, lo: int, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(model, device, *args)`` here: whole-document work such as `coder.batch.score_file`."""
        return lo, fn(self.model, self.device, *args), self.stats(lo, lo + 1)

    def stats(self, lo: int, hi: int) -> BatchStats:
        return BatchStats(lo, hi, os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def require_ray() -> Any:
    """Import ray, or say in one sentence how to install it."""
    try:
        import ray
    except ImportError as e:
        raise MissingDependencyError(f"--engine ray needs the optional dependency Ray; install it with {INSTALL_RAY}.") from e
    return ray


def _check_reachable(address: str) -> None:
    """Fail within seconds on an address nothing listens on (ray.init would wait far longer)."""
    if address == "auto":
        return
    url = urlparse(address if "://" in address else f"tcp://{address}")
    if url.scheme == "ray":
        try:
            import grpc  # noqa: F401
        except ImportError as e:
            raise MissingDependencyError("ray:// addresses need Ray Client; install it with pip install 'ray[client]'.") from e
    try:
        host, port = url.hostname, url.port or (10001 if url.scheme == "ray" else 6379)
    except ValueError as e:
        raise EngineError(f"'{address}' is not a Ray address; use auto, HOST:PORT or ray://HOST:10001.") from e
    if not host:
        raise EngineError(f"'{address}' is not a Ray address; use auto, HOST:PORT or ray://HOST:10001.")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise EngineError(f"Cannot reach the Ray cluster at {address} ({e.strerror or e}); check --address and that the head node is running.") from e


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [e.__class__.__name__])[0]
