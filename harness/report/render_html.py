"""A Document as one self-contained HTML page: inline CSS, plots embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from harness.report.document import Block, Document, Image, Table

STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .86rem; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: .25rem .55rem; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fbfcfd; }
code { background: #f6f8fa; padding: .05rem .3rem; border-radius: 4px; font-size: .85em; white-space: normal; }
strong.broken { color: #cf222e; }
img { max-width: 100%; border: 1px solid #d0d7de; margin: .5rem 0 1rem; }
ul { padding-left: 1.2rem; }
"""


def render_html(document: Document, folder: Path) -> str:
    """The document as HTML; images are read from `folder` and embedded."""
    body = [f"<h1>{html.escape(document.title)}</h1>", *_blocks(document.intro, folder)]
    for section in document.sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        body += _blocks(section.blocks, folder)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(document.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _blocks(blocks: tuple[Block, ...], folder: Path) -> list[str]:
    out: list[str] = []
    items: list[str] = []
    for block in blocks:
        if isinstance(block, str) and block.startswith("- "):
            items.append(f"<li>{inline(block[2:])}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        out.append(_block(block, folder))
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return out


def _block(block: Block, folder: Path) -> str:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Image):
        encoded = base64.b64encode((folder / block.file).read_bytes()).decode("ascii")
        return f'<img alt="{html.escape(block.alt)}" src="data:image/png;base64,{encoded}">'
    return f"<p>{inline(block)}</p>"


def _table(table: Table) -> str:
    def cell(tag: str, text: str, numeric: bool) -> str:
        css = ' class="num"' if numeric else ""
        return f"<{tag}{css}>{inline(text)}</{tag}>"

    head = "".join(cell("th", column, numeric) for column, numeric in zip(table.columns, table.numeric, strict=False))
    rows = ["<tr>" + "".join(cell("td", text, numeric) for text, numeric in zip(row, table.numeric, strict=False)) + "</tr>" for row in table.rows]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> str:
    """Escape text, then turn `code` and **bold** into HTML."""
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(lambda match: f"<code>{match.group(1)}</code>", escaped)
    return _BOLD.sub(_strong, escaped)


def _strong(match: re.Match) -> str:
    """Bold text; a broken threshold stands out in red."""
    css = ' class="broken"' if "BROKEN" in match.group(1) else ""
    return f"<strong{css}>{match.group(1)}</strong>"
