"""Naming conventions for generated target names: as_is, lower, snake_case; and the collisions they can cause."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable

from databridge.spec.models import Naming

NAMINGS: tuple[Naming, ...] = typing.get_args(Naming)

_SEPARATORS = re.compile(r"[^\w]+")
"""Runs of anything but letters, digits and underscores (spaces, dashes, dots, ...): one underscore in snake_case."""
_EDGES = re.compile(r"^[^\w]+|[^\w]+$")
"""Such runs at either end, which snake_case drops."""


class NameCollision(ValueError):
    """Two source names that one convention turns into the same target name; the message names both."""


def convert(name: str, naming: Naming) -> str:
    """``name`` under ``naming``; a name that snake_case would leave empty (only symbols) is kept as it is."""
    if naming == "lower":
        return name.lower()
    if naming == "snake_case":
        return snake_case(name) or name
    return name


def snake_case(name: str) -> str:
    """InvoiceLineId → invoice_line_id, HTTPStatus → http_status, 'Unit Price' → unit_price, unit-price → unit_price.

    A word starts at a capital after a small letter or digit, and at the last capital of a run followed by a small
    letter (HTTPStatus: HTTP + Status). Underscores written in the name are kept as they are."""
    text = _SEPARATORS.sub("_", _EDGES.sub("", name))
    out: list[str] = []
    for i, ch in enumerate(text):
        before, after = text[i - 1] if i else "", text[i + 1 : i + 2]
        if (
            ch.isupper()
            and before
            and before != "_"
            and (before.islower() or before.isdigit() or (before.isupper() and after.islower()))
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def convert_all(names: Iterable[str], naming: Naming, what: str) -> dict[str, str]:
    """Each name → its converted name; NameCollision naming both sources when two meet (``what`` says what they are,
    e.g. "columns of source table shop.orders")."""
    converted: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in names:
        new = convert(name, naming)
        if new in taken:
            raise NameCollision(collision_message(what, taken[new], name, new, naming))
        taken[new] = name
        converted[name] = new
    return converted


def collision_message(what: str, first: str, second: str, new: str, naming: Naming) -> str:
    return (
        f"{what} {first!r} and {second!r} both become {new!r} under naming: {naming}; "
        "list one of them under tables: with a target name of its own, or choose another naming"
    )
