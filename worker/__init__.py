"""The background worker: the deadline sweep, the liaison's digest and mail delivery."""

from __future__ import annotations
