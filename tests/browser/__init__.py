"""Tests in real headless Chromium: the widget, the embed and the public pages as a visitor
(and a partner site on another origin) sees them."""
