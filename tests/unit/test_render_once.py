"""A call renders the same two templates for every member: compiled once, HTML still escaped."""

from __future__ import annotations

from pathlib import Path

from notifications.render import Renderer


def test_templates_are_compiled_once_and_html_stays_escaped(tmp_path: Path) -> None:
    (tmp_path / "groet.txt.j2").write_text("Hallo {{ recipient.name }}\n\nBeste {{ recipient.name }},\n")
    (tmp_path / "groet.html.j2").write_text("<p>Beste {{ recipient.name }},</p>\n")
    renderer = Renderer(tmp_path)
    first = renderer.render("groet", {"recipient": {"name": "Anna"}})
    compiled = renderer.compiled["groet"]
    second = renderer.render("groet", {"recipient": {"name": 'Bram "<b>" & co'}})
    assert renderer.compiled["groet"] is compiled
    assert first.subject == "Hallo Anna"
    assert second.text == 'Beste Bram "<b>" & co,\n'
    assert second.html == "<p>Beste Bram &#34;&lt;b&gt;&#34; &amp; co,</p>\n"
