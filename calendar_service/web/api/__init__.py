"""The JSON API: events, occurrences, tokens, import and proposals, with its OpenAPI document."""
