"""Secrets the system must use again (webhook signing keys), encrypted at rest with Fernet.

API keys are only ever compared, so they are stored hashed; a webhook secret signs every
delivery, so it is stored encrypted with the operator's `GUABANG_SECRETS_KEY` and decrypted
only in memory, just before signing. It is never logged.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretsBox:
    def __init__(self, key: str):
        self._fernet = Fernet(key.encode())

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("this secret was sealed with another GUABANG_SECRETS_KEY") from None
