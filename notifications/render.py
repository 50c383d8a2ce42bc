"""Render a mail from its Jinja2 templates: `<name>.txt.j2` (first line: subject) and `.html.j2`.

HTML is autoescaped, text is not (escaping text would show `&lt;` to the reader), and every
missing variable is an error (StrictUndefined). Each template is compiled once per Renderer and
kept: a call to fifty members renders the same two compiled templates fifty times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

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
            auto_reload=False,  # compiled once: no look at the file for each of a call's mails
        )
        self.env.filters.update(formatting.FILTERS)
        self.env.globals.update(formatting.GLOBALS)
        self.compiled: dict[str, tuple[Template, Template]] = {}

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        text_template, html_template = self._templates(name)
        subject, _, body = text_template.render(context).partition("\n")
        return Rendered(subject.strip(), body.lstrip("\n"), html_template.render(context))

    def _templates(self, name: str) -> tuple[Template, Template]:
        found = self.compiled.get(name)
        if found is None:
            found = self.compiled[name] = (self.env.get_template(f"{name}.txt.j2"),
                                           self.env.get_template(f"{name}.html.j2"))
        return found

    def template_names(self) -> set[str]:
        return set(self.env.list_templates(extensions=["j2"]))
