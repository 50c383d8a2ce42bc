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


def test_each_persons_copy_is_encoded_as_if_encoded_whole(tmp_path: Path) -> None:
    """The lines without a personal value are quoted-printable encoded once for everyone; each
    person's copy is byte for byte what encoding their whole mail gives."""
    long = "woord " * 20
    (tmp_path / "oproep.txt.j2").write_text(
        "Oproep voor {{ recipient.name }}\n\nFrom nu af aan\n.\nspatie aan het eind   \n"
        f"{long}{{{{ recipient.name }}}} {long}\n{{{{ answer_url }}}}\nFrom {{{{ recipient.name }}}}\n"
        "één = twee\n\n")
    (tmp_path / "oproep.html.j2").write_text(
        f"<p>{{{{ t }}}}</p>\n<p>{long}</p>\n<p>Beste {{{{ recipient.name }}}},</p>\n"
        "<a href=\"{{ answer_url }}\">ja</a>\n.\n")
    personal = {"recipient": {"name": Personal("recipient.name")}, "answer_url": Personal("answer_url")}
    link = "http://example.org/antwoord/" + "x" * 120
    for title in ["", "een\rtwee\r"]:  # a carriage return in the shared text too
        shared = Renderer(tmp_path).render_shared("oproep", {"t": title}, personal)
        assert shared is not None
        for name in [*NAMES, "From Anna", ".", "Anna\r\nFrom B", "Anna  ", "Zoë=Ω " * 15,
                     "Anna\n", "\nAnna", "\r"]:
            values = {"recipient.name": name, "answer_url": link}
            assert shared.fill_encoded(values) == shared.fill(values).encoded()
