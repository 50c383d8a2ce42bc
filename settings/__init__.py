"""Configuration from the environment (ADVIES_*), a `.env` file or `advies.toml`.

`advies.toml` is checked like the organisation file: a key it does not know, a TOML error or a
nesting too deep to read is refused with the line it is on (InvalidInput, in Dutch).
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from engine.clock import Clock, FrozenClock, SystemClock, parse_instant
from engine.errors import InvalidInput
from engine.inputs import CONTROL

#: A signing key shorter than this is refused: the personal links must not be forgeable.
MIN_SECRET = 32
NO_KEY = ("ADVIES_SECRET_KEY is niet ingesteld. Zonder geheime sleutel kan iedereen persoonlijke "
          "links namaken. Stel een sleutel in van minstens 32 tekens, bijvoorbeeld met: "
          "export ADVIES_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
WEAK_KEY = (f"ADVIES_SECRET_KEY is te kort: gebruik minstens {MIN_SECRET} willekeurige tekens, "
            "anders zijn de persoonlijke links te raden.")


class SecretMissing(InvalidInput):
    """No strong signing key; the message says in Dutch what to do."""


BOM = "\ufeff"
TOML_PLACE = re.compile(r"at line (\d+), column (\d+)")


class CheckedTomlSource(TomlConfigSettingsSource):
    """`advies.toml`, read strictly: unknown keys, TOML errors and deep nesting are refused with
    a Dutch message naming the line."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        self.known = set(settings_cls.model_fields)  # _read_file runs inside super().__init__
        super().__init__(settings_cls)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        name = getattr(file_path, "name", "advies.toml")
        try:
            text = file_path.read_text(encoding="utf-8").removeprefix(BOM)
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput(f"{name} kan niet gelezen worden (is het UTF-8-tekst?).") from error
        data = _toml(text, name)
        for key in data:
            if key not in self.known:
                raise InvalidInput(f"{name}, regel {_line_of(text, key)}: onbekende sleutel '{key}'. "
                                   f"Toegestaan: {', '.join(sorted(self.known))}.")
        return data


def _toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        place = TOML_PLACE.search(str(error))
        where = f", regel {place.group(1)}, kolom {place.group(2)}" if place else ""
        raise InvalidInput(f"{name}{where}: dit is geen geldige TOML. Schrijf bijvoorbeeld "
                           "database_url = \"sqlite:///advies.db\".") from error
    except RecursionError as error:
        raise InvalidInput(f"{name} is te diep genest om te lezen.") from error


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*\[*\s*[\"']?{re.escape(key)}[\"']?\s*[=\].]")
    return next((number for number, line in enumerate(text.splitlines(), start=1)
                 if pattern.match(line)), 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ADVIES_", env_file=".env", toml_file="advies.toml", extra="ignore"
    )

    database_url: str = "sqlite:///advies.db"
    smtp_url: SecretStr | None = None
    mail_dir: Path = Path("mail")
    mail_from: str = "Adviestraject <adviestraject@localhost>"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    now: str | None = Field(default=None)
    holidays_file: Path | None = None

    @field_validator("now")
    @classmethod
    def _now_is_iso(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_instant(value)
            except ValueError as error:
                raise ValueError("geen moment zoals 2026-03-24T09:30:00+01:00") from error
        return value or None

    @field_validator("mail_from", "base_url")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if CONTROL.search(value):
            raise ValueError("een regelovergang of stuurteken kan hier niet")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = CheckedTomlSource(settings_cls)
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

    @cached_property
    def clock(self) -> Clock:
        """`ADVIES_NOW` freezes the clock (demos, tests); otherwise the real time."""
        if self.now:
            return FrozenClock(parse_instant(self.now))
        return SystemClock()

    @property
    def key_file(self) -> Path | None:
        """Where the demo keeps its generated key: beside its SQLite database."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix) or self.database_url == f"{prefix}:memory:":
            return None
        return Path(f"{self.database_url.removeprefix(prefix)}.sleutel")

    def signing_key(self) -> str:
        """The key that signs personal links: ADVIES_SECRET_KEY, or the demo's key file.

        Raises SecretMissing when there is none or it is too short to be safe."""
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
        elif self.key_file is not None and self.key_file.is_file():
            key = self.key_file.read_text(encoding="utf-8").strip()
        else:
            raise SecretMissing(NO_KEY)
        if len(key) < MIN_SECRET:
            raise SecretMissing(WEAK_KEY)
        return key

    def make_demo_key(self) -> bool:
        """Give the demo a random key beside its database, once; True when one was made."""
        if self.secret_key is not None or self.key_file is None or self.key_file.exists():
            return False
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        return True

    def at(self) -> datetime:
        return self.clock.now()
