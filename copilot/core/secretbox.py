"""Secrets at rest: a key or password the app must keep in a database is stored sealed.

Sealed with Fernet from the maintained `cryptography` library, keyed by
OPSCOPILOT_SECRET_KEY. Fernet rather than raw AES-GCM because it is a whole, versioned token
format (AES-128-CBC with an HMAC-SHA256 over version, time, IV and ciphertext, a fresh
random IV for every token): there is no nonce for this code to manage or reuse, a wrong key
or a changed byte fails the HMAC before anything is decrypted, and its key is one URL-safe
text that fits an environment variable or a secrets file.

A sealed value is written `fernet:v1:TOKEN`, so a later format can be told apart; a stored
value without the prefix was written in clear by a version before this one and is read as it
is (`Opened.in_clear` says so, and the next save seals it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from copilot.core.errors import ConfigError

__all__ = ["SEALED_PREFIX", "Opened", "SecretBox", "SecretKeyInvalid", "SecretKeyMismatch",
           "SecretKeyMissing", "new_secret_key"]

SEALED_PREFIX = "fernet:v1:"
_VARIABLE = "OPSCOPILOT_SECRET_KEY"
_MAKE_ONE = ("make one with `python -c \"from cryptography.fernet import Fernet; "
             "print(Fernet.generate_key().decode())\"`")


class SecretKeyMissing(ConfigError):
    """A secret was to be sealed or opened and OPSCOPILOT_SECRET_KEY is not set."""


class SecretKeyInvalid(ConfigError):
    """OPSCOPILOT_SECRET_KEY is set but is not a Fernet key."""


class SecretKeyMismatch(ConfigError):
    """A sealed secret does not open with OPSCOPILOT_SECRET_KEY (another key, or damaged)."""


@dataclass(frozen=True)
class Opened:
    """A stored secret, opened: its text and whether it had been stored in clear."""

    text: str = field(repr=False)
    in_clear: bool = False


def new_secret_key() -> str:
    """A fresh random key for OPSCOPILOT_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


@dataclass(frozen=True)
class SecretBox:
    """Seals and opens secrets with OPSCOPILOT_SECRET_KEY (empty: none configured).

    The key is checked when it is first used, not when the settings are read, because the
    settings loader quotes a malformed value in its error and this value must never be shown.
    """

    key: str = field(default="", repr=False)

    @property
    def configured(self) -> bool:
        """True when a key is set (whether it is a valid one is told on use)."""
        return bool(self.key.strip())

    def _fernet(self, what: str) -> Fernet:
        if not self.configured:
            raise SecretKeyMissing(f"{what} is stored encrypted, and {_VARIABLE} is not set: "
                                   f"set it to the key it was saved with ({_MAKE_ONE}).")
        try:
            return Fernet(self.key.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise SecretKeyInvalid(f"{_VARIABLE} is not a valid key: it must be 32 bytes in "
                                   f"URL-safe base64 (44 characters); {_MAKE_ONE}.") from None

    def seal(self, secret: str, *, what: str) -> str:
        """`secret` as it may be stored: `fernet:v1:TOKEN`; "" stays "" (nothing to hide).
        SecretKeyMissing when no key is set: a secret is never stored in clear."""
        if not secret:
            return ""
        if not self.configured:
            raise SecretKeyMissing(f"{what} cannot be saved: secrets are stored only "
                                   f"encrypted, and {_VARIABLE} is not set ({_MAKE_ONE}).")
        token = self._fernet(what).encrypt(secret.encode("utf-8"))
        return SEALED_PREFIX + token.decode("ascii")

    def open(self, stored: str, *, what: str) -> Opened:
        """The secret a stored value holds. A value without the prefix was saved in clear by
        an older version and is returned as it is, marked `in_clear`. A typed error (never
        the stored text) when the key is missing, invalid or not the one it was sealed with."""
        if not stored.startswith(SEALED_PREFIX):
            return Opened(stored, in_clear=bool(stored))
        fernet = self._fernet(what)
        try:
            text = fernet.decrypt(stored.removeprefix(SEALED_PREFIX).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyMismatch(
                f"{what} does not open with {_VARIABLE}: it was saved with another key, or "
                f"the stored value is damaged. Set {_VARIABLE} to the key it was saved with, "
                "or save it again.") from None
        return Opened(text.decode("utf-8"))
