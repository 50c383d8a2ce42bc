"""The web interface: the page behind a member's personal link (`advies serve`)."""

from __future__ import annotations
