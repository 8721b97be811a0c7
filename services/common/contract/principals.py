"""Who is calling (CONTRACT §2): a principal parsed from the key's owner. Pure Python."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    kind: str  # admin | department | township | inspector
    code: str | None = None

    @classmethod
    def parse(cls, text: str) -> Principal:
        if text == "admin":
            return cls("admin")
        kind, _, code = text.partition(":")
        return cls(kind, code)

    def __str__(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    def is_department(self, code: str | None) -> bool:
        return self.kind == "department" and self.code == code

    def is_township(self, code: str | None) -> bool:
        return self.kind == "township" and self.code == code
