"""The editors' space: sessions and sign-in, the event form and pages, moderation, administration.
Every page needs a session; every form carries a CSRF token."""
