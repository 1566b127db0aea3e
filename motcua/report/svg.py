"""The charts' rendering: a Vega-Lite specification to SVG, offline, by :mod:`vl_convert`
(Vega in an embedded engine: no browser, no network, no script), then made an HTML5
inline ``<svg>`` with an accessible name. The specifications are :mod:`motcua.report.charts`'."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import altair as alt
import vl_convert as vlc

#: Numbers the Vietnamese way in axis labels: 1.234 and 7,5.
VI_FORMAT_LOCALE: dict[str, Any] = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]}

#: Characters that XML (hence SVG) cannot hold: C0 controls but tab and newlines, lone
#: surrogates, U+FFFE/U+FFFF. Names from the source may carry them (a NUL in a procedure
#: code); vl-convert aborts the whole process on a NUL, so they never reach it.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_NS = "{http://www.w3.org/1999/xlink}"




class _Spec(Protocol):
    chart_id: str
    title: str
    desc: str
    spec: dict[str, Any]


def _vl_version() -> str | None:
    """The Vega-Lite version Altair writes ("v6.4"), when vl-convert bundles it."""
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return f"v{major_minor}" if major_minor in vlc.get_vegalite_versions() else None


def xml_text(s: str) -> str:
    """``s`` with the characters XML cannot hold replaced by U+FFFD."""
    return NOT_XML.sub("\ufffd", s)


def _clean(node: Any) -> Any:
    """A copy of a JSON-like spec with every string (keys too) made :func:`xml_text`."""
    if isinstance(node, str):
        return xml_text(node)
    if isinstance(node, dict):
        return {xml_text(str(k)): _clean(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_clean(v) for v in node]
    return node


def render_svg(spec: dict[str, Any]) -> str:
    """Vega-Lite ``spec`` as an SVG document, rendered offline (no data may be fetched)."""
    return vlc.vegalite_to_svg(_clean(spec), vl_version=_vl_version(), allowed_base_urls=[],
                               format_locale=VI_FORMAT_LOCALE)


def inline_svg(svg: str, chart_id: str, title: str, desc: str) -> str:
    """Vega's SVG document as an HTML5 inline ``<svg>`` with an accessible name.

    The tree is rewritten (not the text): element names lose their namespace (no
    ``xmlns`` in the page), the root gets ``class="chart"``, ``data-chart``,
    ``role="img"``, ``aria-label`` and ``aria-labelledby`` pointing at a new ``<title>``
    and ``<desc>``; every text is escaped by the serializer.
    """
    root = ET.fromstring(svg)
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith(SVG_NS):
            el.tag = el.tag[len(SVG_NS):]
        for name in [k for k in el.attrib if k.startswith(XLINK_NS)]:
            el.attrib[name[len(XLINK_NS):]] = el.attrib.pop(name)
    cid = f"chart-{chart_id}"
    attrs = {"class": "chart", "data-chart": chart_id, "role": "img", "aria-label": xml_text(title),
             "aria-labelledby": f"{cid}-title {cid}-desc"}
    for name in ("width", "height", "viewBox"):
        if name in root.attrib:
            attrs[name] = root.attrib[name]
    attrs["preserveAspectRatio"] = "xMinYMin meet"
    root.attrib.clear()
    root.attrib.update(attrs)
    title_el = ET.Element("title", {"id": f"{cid}-title"})
    title_el.text = xml_text(title)
    desc_el = ET.Element("desc", {"id": f"{cid}-desc"})
    desc_el.text = xml_text(desc)
    root.insert(0, desc_el)
    root.insert(0, title_el)
    return ET.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class RenderedChart:
    """A chart ready for the page: id, accessible title and its inline SVG markup."""

    chart_id: str
    title: str
    svg: str


def render_charts(specs: Sequence[_Spec]) -> list[RenderedChart]:
    """Each spec rendered to inline SVG (one vl-convert engine, in this process)."""
    return [RenderedChart(c.chart_id, c.title, inline_svg(render_svg(c.spec), c.chart_id, c.title, c.desc))
            for c in specs]
