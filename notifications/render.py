"""Render a mail from its Jinja2 templates: `<name>.txt.j2` (first line: subject) and `.html.j2`.

HTML is autoescaped, text is not (escaping text would show `&lt;` to the reader), and every
missing variable is an error (StrictUndefined).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications import formatting

SHARED = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, *template_dirs: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader([*template_dirs, SHARED]),
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                         default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(formatting.FILTERS)
        self.env.globals.update(formatting.GLOBALS)

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        text = self.env.get_template(f"{name}.txt.j2").render(context)
        subject, _, body = text.partition("\n")
        html = self.env.get_template(f"{name}.html.j2").render(context)
        return Rendered(subject.strip(), body.lstrip("\n"), html)

    def template_names(self) -> set[str]:
        return set(self.env.list_templates(extensions=["j2"]))
