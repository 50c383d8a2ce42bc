"""Errors the engine raises. Each carries a Dutch message for the person who caused it."""

from __future__ import annotations


class AdviesError(Exception):
    """Base class; `exit_code` is what the command line returns for it."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AdviesError):
    """Bad input: an unknown name, a missing or malformed field."""

    exit_code = 2


class NotFound(InvalidInput):
    """An unknown trajectory, organisation, person or flow."""


class NotAllowed(AdviesError):
    """The event is not allowed in this state, for this actor, or its guard says no."""

    exit_code = 3


class Conflict(AdviesError):
    """Someone else changed the trajectory at the same moment."""

    exit_code = 4


class InvalidFlow(Exception):
    """A flow definition is broken; raised when the flow module is imported."""
