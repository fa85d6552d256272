"""Hearth's settings: one frozen value, built from an environment in a composition root.

Nothing here reads `os.environ` by itself: the CLI calls `Settings.from_environ(os.environ)`
and tests pass their own mapping (or build `Settings(...)` directly), so no setting is ever
picked up behind the caller's back. Every variable is documented in docs/configuration.md.
"""

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hearth.errors import ConfigError

__all__ = ["ENV_PREFIX", "LogLevel", "Settings"]

ENV_PREFIX = "HEARTH_"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """Everything Hearth is configured with; see docs/configuration.md for each field."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    # repr=False: a PostgreSQL URL may carry a password, and settings end up in logs.
    database_url: str = Field(default="sqlite:///./var/hearth.db", repr=False)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str = Field(default="", description="Derived from host and port when unset.")
    secret_key: SecretStr | None = None
    demo_mode: bool = False
    salesforce_login_url: str | None = None
    salesforce_client_id: str | None = None
    salesforce_client_secret: SecretStr | None = None
    log_level: LogLevel = "info"
    sync_worker: bool = True
    sync_interval_seconds: int = Field(default=300, ge=30, le=86_400)
    collect_cache_seconds: float = Field(default=10.0, ge=0, le=3600)
    ip_resolvers: str | None = None
    ip_resolver_cache_size: int = Field(default=65_536, ge=0, le=10_000_000)
    opportunity_active_date_field: str = Field(
        default="LastActivityDate", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only explicit values: the environment arrives through from_environ, never implicitly.
        return (init_settings,)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """Build settings from `HEARTH_*` variables; empty variables count as unset.

        Raises `ConfigError` naming each offending variable.
        """
        values: dict[str, Any] = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if environ.get(ENV_PREFIX + name.upper())
        }
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'_'.join(str(part) for part in error['loc']).upper()}: "
                f"{error['msg']}"
                for error in exc.errors()
            )
            raise ConfigError(f"invalid settings: {problems}") from exc

    @model_validator(mode="before")
    @classmethod
    def _derive_base_url(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("base_url"):
            host = values.get("host", cls.model_fields["host"].default)
            port = values.get("port", cls.model_fields["port"].default)
            return {**values, "base_url": f"http://{host}:{port}"}
        return values

    @field_validator("base_url", "salesforce_login_url")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        # One spelling, so later code can append paths without doubling slashes.
        return value.rstrip("/")

    @field_validator("log_level", mode="before")
    @classmethod
    def _lowercase_log_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value
