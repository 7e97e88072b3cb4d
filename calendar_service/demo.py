"""Demonstration events, taken from a real France terre d'asile newsletter.

``demo_events(today)`` turns the news items of that newsletter into about twelve calendar
events in French (a few also in English), dated over the next one to four months. Every date is
computed from ``today`` (for example "the first Tuesday at least 18 days after today"), so the
result is the same for a given day and never lies in the past. The documents are plain
JSON-compatible dicts, valid input for ``models.EventIn``.
"""

from __future__ import annotations

import datetime
from typing import Any

__all__ = ["demo_events"]

FTDA_NAME = "France terre d'asile"
FTDA_URL = "https://www.france-terre-asile.org"

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = range(6)

FTDA_SEAT: dict[str, Any] = {
    "name": "France terre d'asile – siège",
    "address": "24 rue Marc Seguin",
    "postal_code": "75018",
    "city": "Paris",
    "country": "FR",
    "lat": 48.8893,
    "lon": 2.3636,
}


def _next_weekday(today: datetime.date, weekday: int, min_days: int) -> datetime.date:
    """The first ``weekday`` at least ``min_days`` after ``today``, away from the holidays."""
    day = today + datetime.timedelta(days=min_days)
    day += datetime.timedelta(days=(weekday - day.weekday()) % 7)
    # Nobody holds a screening on Christmas Eve or New Year's Day: move to the next week.
    while (day.month, day.day) in _HOLIDAYS:
        day += datetime.timedelta(weeks=1)
    return day


_HOLIDAYS = {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1), (5, 1), (7, 14), (8, 15), (11, 1)}


def _at(day: datetime.date, hour: int, minute: int = 0) -> str:
    """A local ISO date-time such as ``2027-01-12T18:30:00``."""
    return datetime.datetime.combine(day, datetime.time(hour, minute)).isoformat()


def _ftda() -> dict[str, str]:
    return {"name": FTDA_NAME, "url": FTDA_URL}


def _concert(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, TUESDAY, 18)
    return {
        "title": {
            "fr": "Concert solidaire pour l'est de la RDC",
            "en": "Solidarity concert for eastern DR Congo",
        },
        "summary": {
            "fr": "Un concert solidaire, organisé par l'association YoonRisen à la Bellevilloise, "
            "pour soutenir les populations de l'est de la République démocratique du Congo, "
            "frappées par une crise humanitaire.",
            "en": "A solidarity concert organised by YoonRisen at La Bellevilloise to support "
            "the people of eastern Democratic Republic of the Congo, hit by a humanitarian "
            "crisis.",
        },
        "description": {
            "fr": "L'association **YoonRisen** vous donne rendez-vous à la Bellevilloise à partir "
            "de 18h30 pour une soirée de musique et de solidarité.\n\n"
            "L'intégralité des bénéfices sera reversée à l'association "
            "[ALIMA](https://alima.ngo), qui mène des actions auprès des populations de l'est "
            "de la République démocratique du Congo.",
        },
        "category": "concert",
        "tags": ["concert-solidaire", "rdc", "humanitaire", "paris"],
        "start": _at(day, 18, 30),
        "location": {
            "name": "La Bellevilloise",
            "address": "19-21 rue Boyer",
            "postal_code": "75020",
            "city": "Paris",
            "country": "FR",
            "lat": 48.8686,
            "lon": 2.3933,
        },
        "organizer": {"name": "YoonRisen", "url": f"{FTDA_URL}/actualites/concert-solidaire"},
        "partners": [{"name": "ALIMA", "role": "beneficiary", "url": "https://alima.ngo"}],
        "url": f"{FTDA_URL}/actualites/concert-solidaire-yoonrisen-bellevilloise",
        "price": {"fr": "Participation libre, bénéfices reversés à ALIMA"},
        "state": "published",
    }


def _mobilisation(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, SATURDAY, 10)
    return {
        "title": "Mobilisation pour défendre l'État de droit",
        "summary": "France terre d'asile appelle à une mobilisation citoyenne pour la "
        "préservation des principes démocratiques fondamentaux et l'indépendance de la justice.",
        "description": "Après les critiques visant une décision de justice, nous appelons à "
        "défendre l'**égalité devant la loi** et la **protection de l'indépendance de la "
        "justice**.\n\n"
        "Rendez-vous place de la République, à Paris, pour une mobilisation pacifique et "
        "citoyenne.",
        "category": "mobilisation",
        "tags": ["etat-de-droit", "democratie", "justice", "rassemblement"],
        "start": _at(day, 14),
        "end": _at(day, 17),
        "location": {
            "name": "Place de la République",
            "address": "Place de la République",
            "postal_code": "75003",
            "city": "Paris",
            "country": "FR",
            "lat": 48.8674,
            "lon": 2.3636,
        },
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/mobilisation-pour-defendre-l-etat-de-droit",
        "price": "Gratuit",
        "accessibility": {"features": ["wheelchair"]},
        "state": "published",
    }


def _outrepasser(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, THURSDAY, 25)
    return {
        "title": "Projection-débat : « Outrepasser »",
        "summary": "Le film « Outrepasser » revient sur l'histoire de la frontière "
        "franco-espagnole, d'apparence invisible depuis les accords de Schengen.",
        "description": "Le long de la frontière franco-espagnole existe une autre réalité : "
        "celle des contrôles au faciès, des arrestations et des sentiers de traverse. Les "
        "« chemins de la liberté » d'hier sont aujourd'hui empruntés par les personnes "
        "exilées confrontées à de nouveaux enjeux.\n\n"
        "La projection sera suivie d'un **échange avec le public** et des associations "
        "présentes à la frontière.",
        "category": "projection",
        "tags": ["cinema", "frontieres", "schengen", "exil"],
        "start": _at(day, 19),
        "end": _at(day, 21, 30),
        "location": {
            "name": "Cinéma Le Grand Action",
            "address": "5 rue des Écoles",
            "postal_code": "75005",
            "city": "Paris",
            "country": "FR",
            "lat": 48.8493,
            "lon": 2.3518,
        },
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/outrepasser-repenser-la-frontiere-franco-espagnole",
        "price": "6 € / tarif réduit 4 €",
        "accessibility": {"features": ["wheelchair", "hearing_loop"]},
        "state": "published",
    }


def _calais(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, FRIDAY, 35)
    return {
        "title": "Projection-débat : femmes exilées à Calais",
        "summary": "Un reportage Arte met en lumière la situation des femmes et des filles "
        "exilées à Calais, qui se démènent pour survivre et échapper aux réseaux de traite.",
        "description": "Après un parcours migratoire périlleux, des femmes et des filles exilées "
        "tentent de survivre à Calais. Elles sont accompagnées par les associations sur place : "
        "le Refugee Women's Centre, Médecins sans frontières ou encore le Secours catholique.\n\n"
        "La projection du reportage sera suivie d'un **débat** avec ces associations.",
        "category": "projection",
        "tags": ["femmes-exilees", "calais", "traite-des-etres-humains", "reportage"],
        "start": _at(day, 18, 30),
        "end": _at(day, 21),
        "location": {
            "name": "Le Channel, scène nationale",
            "address": "173 boulevard Gambetta",
            "postal_code": "62100",
            "city": "Calais",
            "country": "FR",
            "lat": 50.9497,
            "lon": 1.8470,
        },
        "organizer": _ftda(),
        "partners": [
            {"name": "Refugee Women's Centre", "role": "partner"},
            {"name": "Médecins sans frontières", "role": "partner", "url": "https://www.msf.fr"},
            {
                "name": "Secours catholique",
                "role": "partner",
                "url": "https://www.secours-catholique.org",
            },
            {"name": "Arte", "role": "media", "url": "https://www.arte.tv"},
        ],
        "url": f"{FTDA_URL}/actualites/reportage-femmes-exilees-a-calais",
        "price": "Entrée libre",
        "state": "published",
    }


def _prix_jeunesse(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, WEDNESDAY, 45)
    return {
        "title": "Remise du Prix Jeunesse pour l'égalité",
        "summary": "Le Prix Jeunesse pour l'égalité met en lumière l'engagement des jeunes en "
        "faveur de la solidarité et de la justice sociale.",
        "description": "Organisé par l'**Observatoire des inégalités**, ce concours permet à des "
        "jeunes de 11 à 25 ans d'exprimer leur vision d'une société plus juste à travers des "
        "créations originales, sous forme d'affiches et de vidéos.\n\n"
        "Venez découvrir les créations lauréates lors de la cérémonie de remise des prix.",
        "category": "concours",
        "tags": ["jeunesse", "egalite", "justice-sociale", "creation"],
        "start": _at(day, 14),
        "end": _at(day, 17),
        "location": {
            "name": "Maison des métallos",
            "address": "94 rue Jean-Pierre Timbaud",
            "postal_code": "75011",
            "city": "Paris",
            "country": "FR",
            "lat": 48.8672,
            "lon": 2.3749,
        },
        "organizer": {"name": "Observatoire des inégalités", "url": "https://www.inegalites.fr"},
        "partners": [{"name": FTDA_NAME, "role": "partner", "url": FTDA_URL}],
        "url": "https://www.inegalites.fr/prix-jeunesse-pour-l-egalite",
        "price": "Gratuit, sur inscription",
        "audience": {"min_age": 11, "max_age": 25},
        "state": "published",
    }


CHARTE_TEXT = (
    "Face à la déshumanisation et aux stéréotypes souvent diffusés, la Charte de Marseille, "
    "dévoilée lors des Assises du journalisme, appelle à une information fidèle aux faits, "
    "respectueuse des personnes migrantes et vigilante contre la désinformation."
)


def _charte_conference(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, TUESDAY, 50)
    return {
        "title": "La Charte de Marseille : 11 principes pour parler des migrations",
        "summary": "Présentation de la Charte de Marseille, qui propose 11 principes pour une "
        "couverture médiatique des migrations plus juste.",
        "description": f"{CHARTE_TEXT}\n\n"
        "Journalistes et associations présenteront les **11 principes** de la charte, puis "
        "échangeront avec le public.",
        "category": "conference",
        "tags": ["medias", "journalisme", "migrations", "desinformation"],
        "start": _at(day, 18, 30),
        "end": _at(day, 20, 30),
        "location": {
            "name": "Friche la Belle de Mai",
            "address": "41 rue Jobin",
            "postal_code": "13003",
            "city": "Marseille",
            "country": "FR",
            "lat": 43.3103,
            "lon": 5.3904,
        },
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/charte-de-marseille-11-principes",
        "price": "Entrée libre",
        "state": "published",
    }


def _charte_webinar(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, THURSDAY, 57)
    return {
        "title": {
            "fr": "Webinaire : la Charte de Marseille",
            "en": "Webinar: the Marseille Charter",
        },
        "summary": {
            "fr": "Une heure en ligne pour découvrir les 11 principes de la Charte de Marseille "
            "pour une couverture médiatique des migrations plus juste.",
            "en": "One hour online to discover the 11 principles of the Marseille Charter for "
            "fairer media coverage of migration.",
        },
        "description": f"{CHARTE_TEXT}\n\n"
        "Ce webinaire reprend la présentation de la charte, suivie d'un temps de questions. "
        "Le lien de connexion est envoyé après [inscription]"
        f"({FTDA_URL}/webinaires/charte-de-marseille).",
        "category": "conference",
        "tags": ["medias", "journalisme", "migrations", "webinaire"],
        "start": _at(day, 12, 30),
        "end": _at(day, 13, 30),
        "attendance_mode": "online",
        "online_url": f"{FTDA_URL}/webinaires/charte-de-marseille/direct",
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/charte-de-marseille-11-principes",
        "registration_url": f"{FTDA_URL}/webinaires/charte-de-marseille",
        "price": "Gratuit, sur inscription",
        "state": "published",
    }


def _propositions(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, MONDAY, 65)
    return {
        "title": "Des propositions positives et concrètes pour l'immigration",
        "summary": "Personnalités politiques, journalistes, syndicats et associations se "
        "réunissent pour réfléchir à la politique d'accueil de la France.",
        "description": "Une trentaine de participant·es, dont France terre d'asile, cherchent "
        "des réponses concrètes face aux discours anti-immigration : enseignement du français "
        "dès l'arrivée sur le territoire, droit de vote aux élections locales pour tous les "
        "résident·es étranger·es…\n\n"
        "**Rencontre reportée** : la nouvelle date sera annoncée prochainement.",
        "category": "rencontre",
        "tags": ["politique-d-accueil", "immigration", "droit-de-vote", "debat"],
        "start": _at(day, 18, 30),
        "end": _at(day, 21),
        "location": {
            "name": "Maison des associations de solidarité",
            "address": "10-18 rue des Terres au Curé",
            "postal_code": "75013",
            "city": "Paris",
            "country": "FR",
            "lat": 48.8237,
            "lon": 2.3695,
        },
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/propositions-positives-et-concretes-pour-l-immigration",
        "price": "Entrée libre",
        "status": "postponed",
        "state": "published",
    }


def _permanence_anef(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, THURSDAY, 7)
    sessions = [day + datetime.timedelta(weeks=n) for n in range(1, 10)]
    # The office is closed on public holidays; otherwise the fifth session is cancelled.
    skipped = [d for d in sessions if (d.month, d.day) in _HOLIDAYS] or [sessions[3]]
    return {
        "title": {
            "fr": "Permanence ANEF : aide aux démarches de titre de séjour",
            "en": "ANEF drop-in: help with residence permit applications",
        },
        "summary": {
            "fr": "Chaque jeudi après-midi, nos équipes aident les personnes étrangères à "
            "accomplir leurs démarches sur la plateforme ANEF.",
            "en": "Every Thursday afternoon, our teams help foreign nationals with their "
            "applications on the ANEF platform.",
        },
        "description": "Obligatoire pour la majorité des demandes de titres de séjour depuis "
        "2021, l'ANEF (Administration numérique des étrangers en France) multiplie les "
        "dysfonctionnements et empêche des milliers de personnes d'accéder à leurs droits : "
        "emploi, logement, santé, prestations sociales, renouvellement de titre.\n\n"
        "Venez avec vos identifiants et vos documents : nous vous accompagnons, sans "
        "rendez-vous. Avec neuf autres associations, France terre d'asile a aussi déposé un "
        "[recours devant le Conseil d'État](" + FTDA_URL + "/actualites/recours-anef).",
        "category": "permanence",
        "tags": ["anef", "titre-de-sejour", "acces-aux-droits", "numerique"],
        "start": _at(day, 14),
        "end": _at(day, 17),
        "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=10", "exdates": [_at(d, 14) for d in skipped]},
        "location": dict(FTDA_SEAT),
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/permanence-anef",
        "price": "Gratuit, sans rendez-vous",
        "accessibility": {"features": ["wheelchair"]},
        "state": "published",
    }


def _rapport_cra(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, TUESDAY, 75)
    return {
        "title": "Présentation du rapport annuel : 40 ans de rétention administrative",
        "summary": "France terre d'asile et les associations qui accompagnent les personnes "
        "enfermées en CRA présentent le bilan de 40 années de rétention.",
        "description": "Durcissement du cadre légal, opacité des décisions, atteintes aux "
        "droits : le rapport annuel dresse le bilan de 40 années de rétention administrative, "
        "notamment à **Mayotte**, où des enfants sont encore enfermé·es.\n\n"
        "Nous appelons les parlementaires à ne pas confier l'assistance juridique en CRA à un "
        "organisme rattaché au ministère de l'Intérieur.",
        "category": "conference",
        "tags": ["retention", "cra", "mayotte", "droits-humains"],
        "start": _at(day, 10),
        "end": _at(day, 12),
        "timezone": "Indian/Mayotte",
        "location": {
            "name": "Hôtel de ville de Mamoudzou",
            "address": "Place Mariage",
            "postal_code": "97600",
            "city": "Mamoudzou",
            "country": "FR",
            "lat": -12.7806,
            "lon": 45.2279,
        },
        "organizer": _ftda(),
        "partners": [
            {"name": "La Cimade", "role": "co_organizer", "url": "https://www.lacimade.org"},
            {
                "name": "Forum réfugiés",
                "role": "co_organizer",
                "url": "https://www.forumrefugies.org",
            },
            {"name": "Groupe SOS Solidarités – ASSFAM", "role": "co_organizer"},
            {"name": "Ordre de Malte France", "role": "co_organizer"},
        ],
        "url": f"{FTDA_URL}/actualites/rapport-retention-40-ans",
        "price": "Entrée libre",
        "state": "published",
    }


def _cause_majeur(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, WEDNESDAY, 85)
    return {
        "title": "Atelier Cause Majeur ! : accompagner les jeunes majeur·es vers l'autonomie",
        "summary": "Garantissons un accompagnement inconditionnel vers l'autonomie pour les "
        "jeunes vulnérables sortant de la protection de l'enfance.",
        "description": "Le collectif **Cause Majeur !**, dont fait partie France terre d'asile, "
        "revient sur les constats du rapport d'enquête parlementaire sur les manquements des "
        "politiques publiques de protection de l'enfance, notamment en ce qui concerne "
        "l'accompagnement des jeunes majeur·es.\n\n"
        "Un atelier pour partager les pratiques des professionnel·les et construire des "
        "propositions.",
        "category": "atelier",
        "tags": ["protection-de-l-enfance", "jeunes-majeurs", "autonomie", "plaidoyer"],
        "start": _at(day, 9, 30),
        "end": _at(day, 12, 30),
        "location": dict(FTDA_SEAT),
        "organizer": {"name": "Collectif Cause Majeur !", "url": f"{FTDA_URL}/cause-majeur"},
        "partners": [{"name": FTDA_NAME, "role": "venue", "url": FTDA_URL}],
        "url": f"{FTDA_URL}/actualites/cause-majeur-jeunes-majeurs",
        "registration_url": f"{FTDA_URL}/cause-majeur/inscription",
        "price": "Gratuit, sur inscription",
        "state": "published",
    }


def _exposition(today: datetime.date) -> dict[str, Any]:
    day = _next_weekday(today, FRIDAY, 100)
    return {
        "title": "Exposition : les chemins de la liberté",
        "summary": "Les « chemins de la liberté » d'hier sont aujourd'hui empruntés par les "
        "personnes exilées : une exposition sur la frontière franco-espagnole.",
        "description": "Photographies, cartes et témoignages retracent l'histoire de la "
        "frontière franco-espagnole, d'apparence invisible depuis les accords de Schengen, et "
        "la réalité des contrôles au faciès, des arrestations et des sentiers de traverse.\n\n"
        "Exposition en écho au film « Outrepasser ».",
        "category": "exposition",
        "tags": ["exposition", "frontieres", "pyrenees", "memoire"],
        "start": day.isoformat(),
        "end": (day + datetime.timedelta(days=2)).isoformat(),
        "all_day": True,
        "location": {
            "name": "Couvent des Minimes",
            "address": "24 rue Rabelais",
            "postal_code": "66000",
            "city": "Perpignan",
            "country": "FR",
            "lat": 42.7025,
            "lon": 2.8925,
        },
        "organizer": _ftda(),
        "url": f"{FTDA_URL}/actualites/exposition-chemins-de-la-liberte",
        "price": "Entrée libre",
        "state": "published",
    }


def demo_events(today: datetime.date) -> list[dict[str, Any]]:
    """About twelve events from the newsletter, dated over the months after ``today``."""
    return [
        _permanence_anef(today),
        _mobilisation(today),
        _concert(today),
        _outrepasser(today),
        _calais(today),
        _prix_jeunesse(today),
        _charte_conference(today),
        _charte_webinar(today),
        _propositions(today),
        _rapport_cra(today),
        _cause_majeur(today),
        _exposition(today),
    ]
