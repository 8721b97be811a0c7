"""Titles of notifications, in Chinese and English, from one template per event type.

Templates name the village, department, cadre and quantities. They never receive a phone
number: events do not carry one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """Display names looked up in the notifications service's directory projection."""

    village: str
    township: str
    department: str | None = None


@dataclass(frozen=True)
class Template:
    zh: Callable[[dict, Names], str]
    en: Callable[[dict, Names], str]


def _quantity(data: dict) -> str:
    return f"{data['quantity']} {data['unit']}"


TEMPLATES: dict[str, Template] = {
    "resources.commitment_created": Template(
        zh=lambda d, n: f"{n.department}承诺向{n.village}提供{d['kind']} {_quantity(d)}",
        en=lambda d, n: f"{n.department} committed {_quantity(d)} of {d['kind']} to {n.village}",
    ),
}


def render(event_type: str, data: dict, names: Names) -> tuple[str, str]:
    """(title_zh, title_en) for an event; a KeyError for a type no template covers."""
    template = TEMPLATES[event_type]
    return template.zh(data, names), template.en(data, names)
