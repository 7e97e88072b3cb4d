"""The newsletter preview page in Chromium: accessible, quiet, our origin only."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Axe, Browse, Screenshot, Service

pytestmark = pytest.mark.browser


def test_newsletter_page_is_accessible_and_loads_only_our_files(
    service: Service, browse: Browse, axe: Axe, screenshot: Screenshot
) -> None:
    visit = browse(f"{service.url}/newsletter?feed=agenda")
    assert visit.response is not None and visit.response.status == 200
    screenshot(visit.page, "newsletter")
    assert visit.requests_off(service.url) == []
    visit.assert_nothing_ran()
    assert axe(visit.page) == []
