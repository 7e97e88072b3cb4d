"""The files made from every uploaded picture, by name and size: what the renderers need to
point at them without reading the database (an event keeps its picture's id and size)."""

from __future__ import annotations

WIDTHS = (320, 640, 1024, 1600)  # for srcset
MAIL_WIDTH = 560  # the newsletter block's 600 px less its padding
# Crops around the focal point: name -> (width, height). "social" is OpenGraph's 1.91:1; the
# three others are the ratios search engines ask for (schema.org Event ``image``).
CROPS = {"social": (1200, 630), "1x1": (1200, 1200), "4x3": (1200, 900), "16x9": (1200, 675)}
CENTRE = (50, 50)


def responsive_widths(width: int) -> list[int]:
    """The widths of the responsive variants of a master ``width`` pixels wide: each of
    ``WIDTHS`` below it, then its own width (at most the largest)."""
    found = [w for w in WIDTHS if w < width]
    last = min(width, WIDTHS[-1])
    return found if last in found else [*found, last]


def size_at(width: int, height: int, shown: int) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` master scaled to ``shown`` pixels wide (never up)."""
    shown = min(shown, width)
    return shown, max(1, round(height * shown / width))


def crop_name(ratio: str, focus: tuple[int, int]) -> str:
    """The file name of a crop around ``focus`` (percentages across and down)."""
    return f"{ratio}-{focus[0]}-{focus[1]}.jpg"


def file_names(width: int, focus: tuple[int, int] = CENTRE) -> list[str]:
    """Every public file of a master ``width`` pixels wide, with the crops around ``focus``."""
    names = [f"{w}.{kind}" for w in responsive_widths(width) for kind in ("webp", "jpg")]
    names.append("mail.jpg")
    names.extend(crop_name(ratio, focus) for ratio in CROPS)
    return names
