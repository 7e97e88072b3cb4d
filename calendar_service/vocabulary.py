"""The closed vocabularies of the event model, each with French and English labels."""

from __future__ import annotations

from typing import Literal

CategoryId = Literal[
    "concert",
    "projection",
    "exposition",
    "spectacle",
    "mobilisation",
    "conference",
    "atelier",
    "permanence",
    "rencontre",
    "concours",
    "collecte",
    "autre",
]

CATEGORIES: dict[str, dict[str, str]] = {
    "concert": {"fr": "Concert", "en": "Concert"},
    "projection": {"fr": "Projection", "en": "Screening"},
    "exposition": {"fr": "Exposition", "en": "Exhibition"},
    "spectacle": {"fr": "Spectacle", "en": "Show"},
    "mobilisation": {"fr": "Mobilisation", "en": "Demonstration"},
    "conference": {"fr": "Conférence", "en": "Conference"},
    "atelier": {"fr": "Atelier", "en": "Workshop"},
    "permanence": {"fr": "Permanence", "en": "Drop-in session"},
    "rencontre": {"fr": "Rencontre", "en": "Meeting"},
    "concours": {"fr": "Concours", "en": "Competition"},
    "collecte": {"fr": "Collecte", "en": "Collection drive"},
    "autre": {"fr": "Autre", "en": "Other"},
}

Status = Literal["scheduled", "cancelled", "postponed", "rescheduled", "moved_online", "full"]
STATUSES: dict[str, dict[str, str]] = {
    "scheduled": {"fr": "Programmé", "en": "Scheduled"},
    "cancelled": {"fr": "Annulé", "en": "Cancelled"},
    "postponed": {"fr": "Reporté", "en": "Postponed"},
    "rescheduled": {"fr": "Nouvelle date", "en": "Rescheduled"},
    "moved_online": {"fr": "En ligne", "en": "Moved online"},
    "full": {"fr": "Complet", "en": "Full"},
}

State = Literal["draft", "published", "pending"]
AttendanceMode = Literal["in_person", "online", "mixed"]

PartnerRole = Literal["co_organizer", "beneficiary", "partner", "sponsor", "venue", "media"]
PARTNER_ROLES: dict[str, dict[str, str]] = {
    "co_organizer": {"fr": "co-organisateur", "en": "co-organiser"},
    "beneficiary": {"fr": "bénéficiaire", "en": "beneficiary"},
    "partner": {"fr": "partenaire", "en": "partner"},
    "sponsor": {"fr": "mécène", "en": "sponsor"},
    "venue": {"fr": "lieu d'accueil", "en": "host venue"},
    "media": {"fr": "partenaire média", "en": "media partner"},
}

AccessFeature = Literal[
    "wheelchair", "hearing_loop", "sign_language", "audio_description", "easy_read", "quiet_space"
]
ACCESS_FEATURES: dict[str, dict[str, str]] = {
    "wheelchair": {"fr": "Accessible en fauteuil roulant", "en": "Wheelchair accessible"},
    "hearing_loop": {"fr": "Boucle magnétique", "en": "Hearing loop"},
    "sign_language": {"fr": "Interprétation en LSF", "en": "Sign language interpretation"},
    "audio_description": {"fr": "Audiodescription", "en": "Audio description"},
    "easy_read": {"fr": "Facile à lire et à comprendre", "en": "Easy read"},
    "quiet_space": {"fr": "Espace calme", "en": "Quiet space"},
}

# Changing one of these changes what a calendar must show, so it bumps the iCalendar SEQUENCE.
SCHEDULE_FIELDS = frozenset(
    {
        "start",
        "end",
        "all_day",
        "timezone",
        "recurrence",
        "location",
        "attendance_mode",
        "online_url",
        "status",
    }
)
