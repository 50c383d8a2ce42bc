"""A call renders the same two templates for every member: compiled once, HTML still escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.render import Personal, Renderer


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


PERSONAL = {"recipient": {"name": Personal("recipient.name")}}
NAMES = ["Anna", 'Bram "<b>" & co', "\ue000recipient.name\ue001", "Chloé {{ x }}"]


def test_a_mail_rendered_once_reads_for_each_person_as_if_rendered_for_them(tmp_path: Path) -> None:
    (tmp_path / "groet.txt.j2").write_text(
        "Hallo {{ recipient.name }}\n\nBeste {{ recipient.name }}, {{ t }}\n")
    (tmp_path / "groet.html.j2").write_text("<p>Beste {{ recipient.name }}, {{ t }}</p>\n")
    renderer = Renderer(tmp_path)
    shared = renderer.render_shared("groet", {"t": "<i>x</i>"}, PERSONAL)
    assert shared is not None
    for name in NAMES:
        assert shared.fill({"recipient.name": name}) == renderer.render(
            "groet", {"t": "<i>x</i>", "recipient": {"name": name}})


@pytest.mark.parametrize("use", ["{% if recipient.name %}ja{% endif %}", "{{ recipient.name|upper }}",
                                 "{{ recipient.name|length }}", "{{ recipient.name[0] }}",
                                 "{{ recipient.name.split() }}", "{{ recipient.name == 'Anna' }}",
                                 "{{ recipient.name|truncate(3) }}"])
def test_a_template_that_does_more_with_a_name_than_print_it_is_rendered_per_person(
        tmp_path: Path, use: str) -> None:
    (tmp_path / "groet.txt.j2").write_text(f"Hallo\n\n{use}\n")
    (tmp_path / "groet.html.j2").write_text("<p>Hallo</p>\n")
    assert Renderer(tmp_path).render_shared("groet", {}, PERSONAL) is None
