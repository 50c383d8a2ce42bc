"""The committed flow documentation is what the flow definition renders now."""

from __future__ import annotations

from pathlib import Path

from engine import render
from flows import all_flows

DOCS = Path(__file__).resolve().parents[2] / "docs" / "flows"


def test_flow_docs_are_fresh() -> None:
    for name, compiled in all_flows().items():
        committed = (DOCS / f"{name}.md").read_text(encoding="utf-8")
        assert committed == render.markdown(compiled) + "\n", (
            f"docs/flows/{name}.md is stale: run 'make docs'"
        )


def test_mermaid_names_every_state() -> None:
    compiled = all_flows()["asked_advice"]
    diagram = render.mermaid(compiled)
    for state in compiled.flow.states:
        assert state.name in diagram
