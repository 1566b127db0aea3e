"""Reading an API page (``motcua.sources.jsonpage``): only its top-level ``items`` are
split, each parsed on its own; an item too deep to parse stays unparsed (for the
quarantine), a page too deep outside its items, or broken, is refused."""

from __future__ import annotations

import pytest

from motcua.sources.jsonpage import TOO_DEEP, PageTooDeep, Unparsed, parse_page

DEEP = 5000  # far beyond json's recursion limit (about 1000) and orjson's depth limit (1024)


def test_parse_page_splits_only_the_top_level_items():
    deep = "[" * DEEP + "]" * DEEP
    body = ('{"page": 2, "meta": {"items": [1, 2]}, "items": [{"a": "x,]\\"}[{"}, ' + deep
            + ', {"items": [[1], {"b": "]"}]}, "\\ud800"], "total_pages": 3}').encode()
    page = parse_page(body)
    assert page["page"] == 2 and page["total_pages"] == 3 and page["meta"] == {"items": [1, 2]}
    assert page["items"][0] == {"a": 'x,]"}[{'}
    assert page["items"][1] == Unparsed(deep, TOO_DEEP)
    assert page["items"][2] == {"items": [[1], {"b": "]"}]} and page["items"][3] == "\ud800"
    assert parse_page(b'{"items": [], "page": 1}') == {"items": [], "page": 1}
    with pytest.raises(PageTooDeep):
        parse_page(('{"items": [1], "x": ' + deep + "}").encode())
    for broken in ('{"items": [' + deep + ', {"a": ]}', '{"items": [' + deep + ', "abc'):
        with pytest.raises(ValueError):
            parse_page(broken.encode())
