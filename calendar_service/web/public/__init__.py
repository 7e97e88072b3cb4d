"""The public pages and files: home, event pages, feeds, newsletter blocks, embeds and the
proposal form. Nothing here needs an account."""
