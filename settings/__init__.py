"""Configuration from the environment (ADVIES_*), a `.env` file or `advies.toml`."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from engine.clock import Clock, FrozenClock, SystemClock, parse_instant
from engine.errors import InvalidInput

#: A signing key shorter than this is refused: the personal links must not be forgeable.
MIN_SECRET = 32
NO_KEY = ("ADVIES_SECRET_KEY is niet ingesteld. Zonder geheime sleutel kan iedereen persoonlijke "
          "links namaken. Stel een sleutel in van minstens 32 tekens, bijvoorbeeld met: "
          "export ADVIES_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
WEAK_KEY = (f"ADVIES_SECRET_KEY is te kort: gebruik minstens {MIN_SECRET} willekeurige tekens, "
            "anders zijn de persoonlijke links te raden.")


class SecretMissing(InvalidInput):
    """No strong signing key; the message says in Dutch what to do."""


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
            parse_instant(value)
        return value or None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls)
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
