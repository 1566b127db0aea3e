"""An API page (``{"items": [...], ...}``) parsed so that one item cannot break it.

``json.loads`` of a page holding an item nested deeper than the interpreter's
recursion limit (``[[[[…]]]]``, a few kilobytes) raises :class:`RecursionError` for the
whole page. :func:`parse_page` then splits the page's ``items`` array into the items'
texts with a small iterative scanner (no recursion), parses each item on its own, and
gives each item that is still too deep as an :class:`Unparsed` (its text and the
reason), for the source to pass on as a record that staging quarantines. The rest of
the page (``page``, ``total_pages``) must parse: else :class:`PageTooDeep`.

Only pages ``json.loads`` cannot take go through the scanner, so well-formed pages cost
nothing more.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_STRUCT = re.compile(r'["\[\]{},]')
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*+"', re.S)
TOO_DEEP = "invalid_json: RecursionError: nested too deeply to parse (API item)"


class PageTooDeep(ValueError):
    """The page itself (outside its items) is nested too deeply to parse."""


@dataclass(frozen=True)
class Unparsed:
    """An item that could not be parsed: its text as served, and the reason."""

    text: str
    reason: str


def parse_page(body: bytes) -> Any:
    """The page's JSON value; items too deep to parse are :class:`Unparsed`.

    Raises :class:`ValueError` (:class:`json.JSONDecodeError`) for a body that is not
    JSON, :class:`PageTooDeep` when the page outside its items is too deep."""
    try:
        return json.loads(body)
    except RecursionError:
        pass
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    span = _items_span(text)
    if span is None:
        raise PageTooDeep("the page is nested too deeply to parse (no items array to split)")
    start, end, elements = span
    try:
        page = json.loads(text[:start] + "[]" + text[end:])
    except RecursionError:
        raise PageTooDeep("the page is nested too deeply to parse (outside its items)") from None
    if isinstance(page, dict):
        page["items"] = [_item(text[a:b]) for a, b in elements]
    return page


def _item(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except RecursionError:
        return Unparsed(text, TOO_DEEP)


def _items_span(text: str) -> tuple[int, int, list[tuple[int, int]]] | None:
    """(start, end) of the top-level object's ``items`` array and the (start, end) of
    each of its elements; None when there is none. Raises ValueError for an
    unterminated string."""
    depth = 0
    expect_key = False  # the next string at depth 1 is a key
    key: str | None = None
    start = -1
    elements: list[tuple[int, int]] = []
    element_start = -1
    pos = 0
    while (m := _STRUCT.search(text, pos)) is not None:
        i = m.start()
        ch = text[i]
        if ch == '"':
            rest = _STRING_REST.match(text, i + 1)
            if rest is None:
                raise json.JSONDecodeError("unterminated string", text, i)
            pos = rest.end()
            if depth == 1 and expect_key:
                key = json.loads(text[i:pos])
                expect_key = False
            continue
        pos = i + 1
        if ch in "[{":
            depth += 1
            if depth == 1:
                expect_key = ch == "{"
            elif depth == 2 and ch == "[" and key == "items" and start < 0:
                start, element_start = i, i + 1
        elif ch in "]}":
            if depth == 2 and start >= 0:  # the end of the items array
                if elements or text[element_start:i].strip():
                    elements.append((element_start, i))
                return start, i + 1, elements
            depth -= 1
        elif ch == ",":
            if depth == 1:
                expect_key, key = True, None
            elif depth == 2 and start >= 0:
                elements.append((element_start, i))
                element_start = i + 1
    return None
