"""Feed definitions (feeds/*.toml): the shipped ones load, broken ones are named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from calendar_service.cli import main
from calendar_service.feedspec import FeedFileError, load_feeds

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "feeds"
LANGUAGES = ["fr", "en"]
GOOD = '[title]\nfr = "Agenda"\n'

# (file name, content, what the message must name after the file)
BROKEN = {
    "invalid-toml": ("agenda.toml", '[title]\nfr = "Agenda\n', "not valid TOML"),
    "unknown-category": (
        "agenda.toml",
        GOOD + '[filter]\ncategories = ["concert", "karaoke"]\n',
        "filter.categories[1]",
    ),
    "slug-not-file-name": ("agenda.toml", 'slug = "culture"\n' + GOOD, "slug"),
    "missing-title": ("agenda.toml", 'color = "#123456"\n', "title"),
    "colour-not-rrggbb": ("agenda.toml", 'color = "red"\n' + GOOD, "color"),
    "short-colour": ("agenda.toml", 'color = "#fff"\n' + GOOD, "color"),
    "unknown-key": ("agenda.toml", 'colour = "#123456"\n' + GOOD, "colour"),
    "title-in-no-known-language": ("agenda.toml", '[title]\nde = "Kalender"\n', "title"),
    "refresh-too-often": ("agenda.toml", "refresh_minutes = 1\n" + GOOD, "refresh_minutes"),
    "bad-slug": ("Agenda_2.toml", GOOD, "slug"),
}


def test_shipped_feeds_load() -> None:
    feeds = load_feeds(SHIPPED, languages=LANGUAGES)
    assert {"agenda", "mobilisations", "culture", "rencontres"} <= set(feeds)
    assert set(feeds) == {p.stem for p in SHIPPED.glob("*.toml")}
    assert feeds["agenda"].title["fr"] == "Agenda solidaire"
    assert feeds["agenda"].filter.categories == ()  # every event
    assert set(feeds["culture"].filter.categories) == {
        "concert",
        "projection",
        "exposition",
        "spectacle",
    }
    assert feeds["mobilisations"].filter.categories == ("mobilisation",)
    for feed in feeds.values():
        assert set(feed.title) == {"fr", "en"}, feed.slug
        assert feed.keep_past_days >= 0 and feed.keep_cancelled_days >= 0


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_named_with_its_field(tmp_path: Path, case: str) -> None:
    name, content, field = BROKEN[case]
    (tmp_path / "valid.toml").write_text(GOOD, encoding="utf-8")
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(FeedFileError) as caught:
        load_feeds(tmp_path, languages=LANGUAGES)
    message = str(caught.value)
    assert message.startswith(f"{bad}: "), message
    assert field in message.removeprefix(f"{bad}: "), message


def test_an_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FeedFileError, match="no feed files"):
        load_feeds(tmp_path, languages=LANGUAGES)
    with pytest.raises(FeedFileError, match="does not exist"):
        load_feeds(tmp_path / "nowhere", languages=LANGUAGES)


def test_feeds_check_names_the_bad_file_and_field(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "valid.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "broken.toml").write_text('color = "red"\n' + GOOD, encoding="utf-8")
    monkeypatch.setenv("CALENDAR_FEEDS_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["feeds", "check"])
    assert result.exit_code != 0
    assert "broken.toml" in result.output
    assert "color" in result.output
    assert "valid" not in result.output.replace(str(tmp_path), "")


def test_feeds_check_lists_the_shipped_feeds(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CALENDAR_FEEDS_DIR", raising=False)
    result = CliRunner().invoke(main, ["feeds", "check"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert sorted(lines) == sorted(
        f"{feed.slug}\t{feed.title['fr']}\t/feeds/{feed.slug}.ics"
        for feed in load_feeds(SHIPPED, languages=LANGUAGES).values()
    )
    assert len(lines) == len(list(SHIPPED.glob("*.toml"))) >= 4
