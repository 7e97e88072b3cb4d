"""Settings: documented, validated, and strict in production."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from calendar_service.settings import Settings, read_env_file

ROOT = Path(__file__).parent.parent


def test_every_setting_is_in_env_example_and_nothing_else() -> None:
    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    expected = {f"CALENDAR_{name.upper()}" for name in Settings.model_fields}
    assert listed == expected


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALENDAR_DEFAULT_TIMEZONE", "America/Cayenne")
    monkeypatch.setenv("CALENDAR_LANGUAGES", '["fr", "en", "ar"]')
    settings = Settings()
    assert settings.default_timezone == "America/Cayenne"
    assert settings.languages == ["fr", "en", "ar"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"secret_key": "x" * 40, "base_url": "http://calendar.example.org"}, "https"),
        ({"secret_key": "x" * 40, "base_url": "https://127.0.0.1"}, "localhost"),
        ({"base_url": "https://calendar.example.org"}, "CALENDAR_SECRET_KEY"),
        ({"secret_key": "x" * 40}, "CALENDAR_BASE_URL must be set"),
        ({"secret_key": "x" * 40, "base_url": ""}, "CALENDAR_BASE_URL must be set"),
        (
            {"secret_key": "short", "base_url": "https://calendar.example.org"},
            "CALENDAR_SECRET_KEY",
        ),
    ],
)
def test_unsafe_production_values_are_refused(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(environment="production", **values)


def test_safe_production_settings_are_accepted() -> None:
    settings = Settings(
        environment="production", secret_key="s" * 40, base_url="https://agenda.example.org/"
    )
    assert settings.base_url == "https://agenda.example.org"


@pytest.mark.parametrize(
    "values",
    [
        {"default_timezone": "Europe/Atlantis"},
        {"default_language": "de"},
        {"database_url": "mysql://x"},
        {"base_url": "ftp://x"},
        {"unknown_setting": 1},
    ],
)
def test_bad_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**values)  # type: ignore[arg-type]


def test_a_dotenv_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", {"CALENDAR_LANGUAGES": '["fr", "en", "ar"]'})
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a compose .env holds other names too\n"
        "POSTGRES_PASSWORD=secret\n"
        "CALENDAR_DEFAULT_TIMEZONE=Indian/Mayotte\n"
        'CALENDAR_LANGUAGES=["fr"]\n'
        "CALENDAR_BASE_URL=\n"
    )
    assert sorted(read_env_file(env_file)) == ["CALENDAR_BASE_URL", "CALENDAR_DEFAULT_TIMEZONE"]
    settings = Settings()
    assert settings.default_timezone == "Indian/Mayotte"
    assert settings.languages == ["fr", "en", "ar"]  # the environment's, not the file's
    assert "POSTGRES_PASSWORD" not in os.environ
    # Empty, the base URL is unset: `serve` makes links follow the address it listens on.
    assert "base_url" not in settings.model_fields_set
    assert read_env_file(tmp_path / "missing.env") == []


def test_a_dotenv_file_naming_no_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", {})
    env_file = tmp_path / ".env"
    env_file.write_text("CALENDAR_DEFAULT_TIMEZONE=UTC\nCALENDAR_BASEURL=https://x.example\n")
    with pytest.raises(ValueError, match="CALENDAR_BASEURL is not a setting"):
        read_env_file(env_file)
    assert os.environ == {}  # nothing taken from a file that is refused
