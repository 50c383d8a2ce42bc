"""Configuration from the environment (ADVIES_*), a `.env` file or `advies.toml`."""

from __future__ import annotations

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

DEV_SECRET = "alleen-voor-ontwikkeling-niet-in-productie"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ADVIES_", env_file=".env", toml_file="advies.toml", extra="ignore"
    )

    database_url: str = "sqlite:///advies.db"
    smtp_url: SecretStr | None = None
    mail_dir: Path = Path("mail")
    mail_from: str = "Adviestraject <adviestraject@localhost>"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
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
    def uses_dev_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET

    def at(self) -> datetime:
        return self.clock.now()
