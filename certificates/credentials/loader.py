"""An offline JSON-LD document loader that serves pinned context copies only.

``contexts/index.json`` maps every context URL the portal accepts to a file in ``contexts/`` and
that file's sha256. The loader refuses any URL that is not in the index (there is no network
fallback, ever) and any file whose bytes no longer match the pinned hash.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
INDEX_FILE = "index.json"


class ContextLoadError(Exception):
    """A JSON-LD context could not be served from the pinned local copies."""


class UnknownContextError(ContextLoadError):
    """The context URL is not in the pinned index; it is never fetched from the network."""


class ContextIntegrityError(ContextLoadError):
    """A pinned context file's bytes do not match the sha256 recorded in the index."""


class PinnedContextLoader:
    """Callable pyld document loader: ``loader(url, options) -> RemoteDocument``."""

    def __init__(self, directory: Path | str = CONTEXTS_DIR) -> None:
        self.directory = Path(directory)
        index_path = self.directory / INDEX_FILE
        try:
            raw = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ContextLoadError(f"cannot read the context index {index_path}: {exc}") from exc
        self.index: dict[str, dict[str, str]] = {}
        for url, entry in raw.items():
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("file"), str)
                or not isinstance(entry.get("sha256"), str)
            ):
                raise ContextLoadError(f"malformed index entry for {url!r} in {index_path}")
            # Only plain file names: the index may not point outside the contexts folder.
            if Path(entry["file"]).name != entry["file"]:
                raise ContextLoadError(f"index entry for {url!r} must be a bare file name")
            self.index[url] = {"file": entry["file"], "sha256": entry["sha256"].lower()}

    @property
    def urls(self) -> list[str]:
        return sorted(self.index)

    def load_bytes(self, url: str) -> bytes:
        """The verified bytes of the pinned copy of ``url``."""
        entry = self.index.get(url)
        if entry is None:
            raise UnknownContextError(
                f"JSON-LD context {url!r} is not pinned in {self.directory / INDEX_FILE}; "
                "contexts are never fetched from the network. Add a reviewed copy and its sha256 "
                "to the index to accept it."
            )
        path = self.directory / entry["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ContextLoadError(f"pinned copy of {url!r} is unreadable: {exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise ContextIntegrityError(
                f"pinned copy of {url!r} ({path.name}) has sha256 {digest}, "
                f"but the index pins {entry['sha256']}; refusing to use it"
            )
        return data

    def load_json(self, url: str) -> Any:
        try:
            return json.loads(self.load_bytes(url).decode("utf-8"))
        except ValueError as exc:
            raise ContextLoadError(f"pinned copy of {url!r} is not valid JSON: {exc}") from exc

    def __call__(self, url: str, options: dict | None = None) -> dict[str, Any]:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": self.load_json(url),
            # Pinned by hash, so they never change: pyld may keep the resolved context for the
            # process instead of re-reading, re-hashing and re-processing it for every proof.
            "tag": "static",
        }


_default_loader: PinnedContextLoader | None = None


def default_loader() -> PinnedContextLoader:
    """The process-wide loader over ``certificates/credentials/contexts``."""
    global _default_loader
    if _default_loader is None:
        _default_loader = PinnedContextLoader()
    return _default_loader


def document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """pyld ``documentLoader`` serving only the pinned contexts of this package."""
    return default_loader()(url, options)
