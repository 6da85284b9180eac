"""A Document as Markdown (GitHub flavour): report.md, images linked beside it."""

from __future__ import annotations

from harness.report.document import Block, Document, Image, Table


def render_markdown(document: Document) -> str:
    """The whole document as Markdown text, ending with one newline."""
    parts = [f"# {document.title}", *_blocks(document.intro)]
    for section in document.sections:
        parts.append(f"## {section.title}")
        parts += _blocks(section.blocks)
    return "\n\n".join(parts) + "\n"


def _blocks(blocks) -> list[str]:
    """Rendered blocks; consecutive list items ("- ...") become one list."""
    out: list[str] = []
    for block in blocks:
        text = _block(block)
        if out and text.startswith("- ") and out[-1].startswith("- "):
            out[-1] += "\n" + text
        else:
            out.append(text)
    return out


def _block(block: Block) -> str:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Image):
        return f"![{block.alt}]({block.file})"
    return block


def _table(table: Table) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "| " + " | ".join("---:" if numeric else "---" for numeric in table.numeric) + " |"
    rows = ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join([header, rule, *rows])


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else " "
