"""Every uploaded or pulled file, kept byte for byte, addressed by its SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class RawFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> tuple[str, Path]:
        """Store the bytes (once: the same content is the same file) and return (sha256, path)."""
        sha256 = self.digest(data)
        path = self.path_for(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        return sha256, path

    def get(self, sha256: str) -> bytes:
        data = self.path_for(sha256).read_bytes()
        if self.digest(data) != sha256:
            raise OSError(f"raw file {sha256} is damaged on disk")
        return data
