"""Render a mail from its Jinja2 templates: `<name>.txt.j2` (first line: subject) and `.html.j2`.

HTML is autoescaped, text is not (escaping text would show `&lt;` to the reader), and every
missing variable is an error (StrictUndefined). Each template is compiled once per Renderer and
kept.

A mail to many people (a call to fifty members) is rendered once (`render_shared`): what differs
per person (their name, address, personal link) goes in as a marker, and each person's copy is
the shared text with their own values put in, escaped for HTML. A template that does more with
a personal value than print it (a test, a filter, a method) cannot be shared that way: the marker
refuses every such use, and such a mail is rendered in full for each person, as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from markupsafe import escape

from notifications import formatting, mime

if TYPE_CHECKING:
    from jinja2 import Environment, Template

SHARED = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str

    def encoded(self) -> Encoded:
        """The mail as its parts are written: text and HTML quoted-printable."""
        return Encoded(self.subject, mime.quoted_printable(self.text), mime.quoted_printable(self.html))


class Renderer:
    """The templates of these folders (and the shared ones), each compiled once when first used.
    jinja2 itself is imported then too: a worker with nothing to send starts without it."""

    def __init__(self, *template_dirs: Path) -> None:
        self.template_dirs = [*template_dirs, SHARED]
        self.compiled: dict[str, tuple[Template, Template]] = {}

    @functools.cached_property
    def env(self) -> Environment:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        env = Environment(
            loader=FileSystemLoader(self.template_dirs),
            autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                         default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # compiled once: no look at the file for each of a call's mails
        )
        env.filters.update(formatting.FILTERS)
        env.globals.update(formatting.GLOBALS)
        return env

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        text_template, html_template = self._templates(name)
        subject, _, body = text_template.render(context).partition("\n")
        return Rendered(subject.strip(), body.lstrip("\n"), html_template.render(context))

    def render_shared(self, name: str, context: dict[str, Any],
                      personal: Mapping[str, Personal]) -> Shared | None:
        """The mail rendered once with a marker for each personal value, or None when the
        template does more with one than print it."""
        try:
            rendered = self.render(name, {**context, **personal})
        except NotShared:
            return None
        markers = [value.marker for value in _leaves(personal)]
        if not _markers_intact(rendered, markers):
            return None  # a filter changed a marker (|upper): render per person
        return Shared(rendered)

    def _templates(self, name: str) -> tuple[Template, Template]:
        found = self.compiled.get(name)
        if found is None:
            found = self.compiled[name] = (self.env.get_template(f"{name}.txt.j2"),
                                           self.env.get_template(f"{name}.html.j2"))
        return found

    def template_names(self) -> set[str]:
        return set(self.env.list_templates(extensions=["j2"]))


# --- a mail rendered once for many people ---------------------------------------------------------

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters: never in a template
MARKER = re.compile(f"{MARK_OPEN}([^{MARK_CLOSE}]*){MARK_CLOSE}")


class NotShared(Exception):
    """A template used a personal value for more than printing it."""


class Personal:
    """A value that differs per person, as a marker. It can be printed (text or HTML) and nothing
    else: any test, comparison, length or attribute means the template depends on the value."""

    def __init__(self, key: str) -> None:
        self.marker = f"{MARK_OPEN}{key}{MARK_CLOSE}"

    def __str__(self) -> str:
        return self.marker

    def __html__(self) -> str:
        return self.marker

    def _refuse(self, *_args: Any) -> NoReturn:
        raise NotShared(self.marker)

    __bool__ = __len__ = __iter__ = __eq__ = __ne__ = __lt__ = __gt__ = __getitem__ = _refuse
    __contains__ = __add__ = __radd__ = __mod__ = __int__ = __float__ = _refuse
    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> NoReturn:
        raise NotShared(name)


class Shared:
    """A mail rendered once; `fill` makes one person's copy, `fill_encoded` the same copy as its
    parts are written (notifications.mime). Each part is cut at its markers once; the lines of a
    body without a marker are quoted-printable encoded once for everyone (quoted-printable
    encodes each line on its own), a person's own lines for them."""

    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered
        self._subject = MARKER.split(rendered.subject)
        self._text, self._html = _Body(rendered.text), _Body(rendered.html)

    def fill(self, values: Mapping[str, str]) -> Rendered:
        """This person's copy: each marker replaced by their value (escaped in the HTML); a value
        is put in as it is, never read as a marker."""
        return Rendered(_put(self._subject, values), _put(self._text.parts, values),
                        _put(self._html.parts, _escaped(values)))

    def fill_encoded(self, values: Mapping[str, str]) -> Encoded:
        """`fill(values).encoded()`, without encoding again what is the same for everyone."""
        return Encoded(_put(self._subject, values), self._text.encoded(values),
                       self._html.encoded(_escaped(values)))


@dataclass(frozen=True)
class Encoded:
    """A mail as its parts are written: the subject, and text and HTML quoted-printable."""

    subject: str
    text: bytes
    html: bytes


class _Body:
    """A body with markers: cut at them (`parts`), and as runs of whole lines (each with its line
    end), either encoded already (no marker) or a line's parts to fill and encode per person."""

    def __init__(self, body: str) -> None:
        self.parts = MARKER.split(body)
        self.runs: list[bytes | list[str]] = []
        if "\r" in body or not body:  # a line end of two characters is never cut: all per person
            self.runs.append(self.parts)
            return
        same: list[str] = []
        for line in body.encode("utf-8").splitlines():  # the lines mime.quoted_printable sees
            text = line.decode("utf-8") + "\n"
            if MARK_OPEN in text:
                if same:
                    self.runs.append(mime.quoted_printable("".join(same)))
                    same = []
                self.runs.append(MARKER.split(text))
            else:
                same.append(text)
        if same:
            self.runs.append(mime.quoted_printable("".join(same)))

    def encoded(self, values: Mapping[str, str]) -> bytes:
        return b"".join(run if isinstance(run, bytes) else mime.quoted_printable(_put(run, values))
                        for run in self.runs)


def _put(parts: list[str], values: Mapping[str, str]) -> str:
    """Text cut at its markers (text, key, text, key, ..., text) with each key's value."""
    if len(parts) == 1:
        return parts[0]
    filled = parts.copy()
    for n in range(1, len(parts), 2):
        filled[n] = values[parts[n]]
    return "".join(filled)


def _escaped(values: Mapping[str, str]) -> dict[str, str]:
    return {key: str(escape(value)) for key, value in values.items()}


def _leaves(values: Mapping[str, Any]) -> list[Personal]:
    found: list[Personal] = []
    for value in values.values():
        found += _leaves(value) if isinstance(value, Mapping) else [value]
    return found


def _markers_intact(rendered: Rendered, markers: list[str]) -> bool:
    """Every marker character belongs to a whole marker: none was cut, cased or escaped."""
    for part in (rendered.subject, rendered.text, rendered.html):
        whole = sum(part.count(marker) for marker in markers)
        if part.count(MARK_OPEN) != whole or part.count(MARK_CLOSE) != whole:
            return False
    return True
