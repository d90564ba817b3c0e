"""The audit log's keys, in files of their own folder, never in the audit database.

- `chain.key`: 32 random bytes (hex) keying the record hashes (HMAC-SHA256). Whoever holds it
  can extend the chain, so it stays with the app.
- `checkpoint-signing.pem`: the Ed25519 private key that signs checkpoints.
- `checkpoint-verify.pem`: its public key. It is enough to check the checkpoints, so it can be
  handed to an auditor or kept beside the checkpoint copies.

Files are created once, mode 0600 in a 0700 folder, each atomically (written aside, then
linked into place), so a reader never sees half a key. Nothing here logs a key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from copilot.core.audit.errors import AuditKeyError

__all__ = ["CHAIN_KEY_FILE", "SIGNING_KEY_FILE", "VERIFY_KEY_FILE", "AuditKeys", "create_keys",
           "load_keys"]

CHAIN_KEY_FILE = "chain.key"
SIGNING_KEY_FILE = "checkpoint-signing.pem"
VERIFY_KEY_FILE = "checkpoint-verify.pem"


@dataclass(frozen=True)
class AuditKeys:
    """The keys found in one folder. A verifier may hold only the public key: then
    `chain_key` and `signing` are None and only checkpoints can be checked."""

    folder: Path
    verifying: Ed25519PublicKey = field(repr=False)
    chain_key: bytes | None = field(default=None, repr=False)
    signing: Ed25519PrivateKey | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        """First 16 hex digits of the SHA-256 of the raw public key: which key signed."""
        raw = self.verifying.public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        if self.signing is None:
            raise AuditKeyError(f"The checkpoint signing key {self.folder / SIGNING_KEY_FILE} "
                                "is missing; answers are withheld until it is restored.")
        return self.signing.sign(message)

    def signature_holds(self, signature: bytes, message: bytes) -> bool:
        try:
            self.verifying.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def load_keys(folder: Path) -> AuditKeys | None:
    """The keys in `folder`; None when it holds none of them. AuditKeyError when a file
    cannot be read or the public key is not the signing key's."""
    paths = {name: folder / name for name in (CHAIN_KEY_FILE, SIGNING_KEY_FILE, VERIFY_KEY_FILE)}
    try:
        texts = {name: path.read_bytes() for name, path in paths.items() if path.is_file()}
    except OSError as exc:
        raise AuditKeyError(f"The audit keys in {folder} cannot be read: {exc.strerror}.") from None
    if not texts:
        return None
    signing = verifying = None
    try:
        if SIGNING_KEY_FILE in texts:
            signing = serialization.load_pem_private_key(texts[SIGNING_KEY_FILE], password=None)
        if VERIFY_KEY_FILE in texts:
            verifying = serialization.load_pem_public_key(texts[VERIFY_KEY_FILE])
        chain_key = (bytes.fromhex(texts[CHAIN_KEY_FILE].decode().strip())
                     if CHAIN_KEY_FILE in texts else None)
    except ValueError:
        raise AuditKeyError(f"An audit key file in {folder} is damaged.") from None
    if (signing is not None and not isinstance(signing, Ed25519PrivateKey)) or (
            verifying is not None and not isinstance(verifying, Ed25519PublicKey)):
        raise AuditKeyError(f"The checkpoint keys in {folder} are not Ed25519 keys.")
    if signing is not None:
        derived = signing.public_key()
        if verifying is not None and _raw(verifying) != _raw(derived):
            raise AuditKeyError(f"{paths[VERIFY_KEY_FILE]} is not the public key of "
                                f"{paths[SIGNING_KEY_FILE]}.")
        verifying = derived
    if verifying is None:
        raise AuditKeyError(f"The checkpoint keys in {folder} are missing: neither "
                            f"{SIGNING_KEY_FILE} nor {VERIFY_KEY_FILE} is there.")
    return AuditKeys(folder, verifying, chain_key, signing)


def create_keys(folder: Path) -> AuditKeys:
    """Create whichever key files are missing in `folder` (a new log's first open), then load
    them. A file another process created first is kept: everyone ends up with the same keys."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create(folder / CHAIN_KEY_FILE, secrets.token_bytes(32).hex().encode() + b"\n")
        if not (folder / SIGNING_KEY_FILE).is_file():
            private = Ed25519PrivateKey.generate()
            _create(folder / SIGNING_KEY_FILE, private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        # The public file is written from the signing key that won, never from our own guess.
        signing = serialization.load_pem_private_key(
            (folder / SIGNING_KEY_FILE).read_bytes(), password=None)
        _create(folder / VERIFY_KEY_FILE, signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    except OSError as exc:
        raise AuditKeyError(f"The audit keys cannot be created in {folder}: "
                            f"{exc.strerror}.") from None
    keys = load_keys(folder)
    assert keys is not None  # just created
    return keys


def _create(path: Path, content: bytes) -> None:
    """Write `content` to `path` unless it exists, without a moment when it is partial."""
    if path.exists():
        return
    aside = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, content)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(aside, path)  # fails when another process linked its file first
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            aside.unlink()


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
