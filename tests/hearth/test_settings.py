import pydantic
import pytest

from hearth.errors import ConfigError
from hearth.settings import Settings


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_environ({})

    assert settings.database_url == "sqlite:///./var/hearth.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.secret_key is None
    assert settings.demo_mode is False
    assert settings.salesforce_login_url is None
    assert settings.salesforce_client_id is None
    assert settings.salesforce_client_secret is None
    assert settings.log_level == "info"


def test_every_variable_is_read() -> None:
    settings = Settings.from_environ(
        {
            "HEARTH_DATABASE_URL": "postgresql://hearth@db/hearth",
            "HEARTH_HOST": "0.0.0.0",
            "HEARTH_PORT": "9000",
            "HEARTH_BASE_URL": "https://hearth.example.com/",
            "HEARTH_SECRET_KEY": "s3cret",
            "HEARTH_DEMO_MODE": "true",
            "HEARTH_SALESFORCE_LOGIN_URL": "http://127.0.0.1:8001",
            "HEARTH_SALESFORCE_CLIENT_ID": "client-id",
            "HEARTH_SALESFORCE_CLIENT_SECRET": "client-secret",
            "HEARTH_LOG_LEVEL": "DEBUG",
        }
    )

    assert settings.database_url == "postgresql://hearth@db/hearth"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.base_url == "https://hearth.example.com"
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == "s3cret"
    assert settings.demo_mode is True
    assert settings.salesforce_login_url == "http://127.0.0.1:8001"
    assert settings.salesforce_client_id == "client-id"
    assert settings.salesforce_client_secret is not None
    assert settings.salesforce_client_secret.get_secret_value() == "client-secret"
    assert settings.log_level == "debug"


def test_base_url_follows_host_and_port_when_unset() -> None:
    settings = Settings.from_environ({"HEARTH_HOST": "10.0.0.5", "HEARTH_PORT": "8080"})

    assert settings.base_url == "http://10.0.0.5:8080"


def test_empty_and_foreign_variables_are_ignored() -> None:
    settings = Settings.from_environ(
        {"HEARTH_PORT": "", "HEARTH_TEST_POSTGRES_URL": "postgresql://x", "PORT": "1"}
    )

    assert settings.port == 8000


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HEARTH_PORT", "eighty"),
        ("HEARTH_PORT", "70000"),
        ("HEARTH_DEMO_MODE", "perhaps"),
        ("HEARTH_LOG_LEVEL", "loud"),
        ("HEARTH_BASE_URL", "hearth.example.com"),
        ("HEARTH_SALESFORCE_LOGIN_URL", "ftp://login.salesforce.com"),
    ],
)
def test_invalid_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_environ({variable: value})


def test_constructor_does_not_read_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEARTH_PORT", "9999")

    assert Settings().port == 8000


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(pydantic.ValidationError):
        settings.port = 1


def test_repr_shows_no_secret() -> None:
    settings = Settings(
        database_url="postgresql://hearth:db-password@db/hearth",
        secret_key=pydantic.SecretStr("session-key"),
        salesforce_client_secret=pydantic.SecretStr("client-secret"),
    )

    for secret in ("db-password", "session-key", "client-secret"):
        assert secret not in repr(settings)
