"""Turning an uploaded picture into the files every output needs, with Pillow.

The uploaded bytes are never served. The real format is read from the bytes themselves (not the
file name nor the Content-Type); only JPEG, PNG, WebP and HEIC (phone photos) are accepted. The
size in pixels is checked from the header before anything is decoded, so a decompression bomb
costs nothing; a damaged or truncated file is refused. The picture is turned the way the camera
held it (EXIF orientation), converted to sRGB (from its ICC profile, CMYK or 16 bits), and
re-encoded from its pixels alone: no EXIF (GPS positions), XMP, IPTC, ICC or comment survives.

From that clean picture (the *master*, at most ``MASTER_SIDE`` pixels long, kept to make new
crops) come the *variants*: widths for responsive pages in WebP and JPEG, a JPEG at the
newsletter's width, and crops around a focal point for social cards (1200x630) and search
engines (1:1, 4:3, 16:9). Everything here is pure and CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFile, ImageOps

from calendar_service.errors import UnsupportedMediaType, ValidationFailed
from calendar_service.media.sizes import CROPS, MAIL_WIDTH, crop_name, responsive_widths, size_at

ACCEPTED_TYPES = "JPEG, PNG, WebP or HEIC (phone photos)"
MASTER_SIDE = 2400
JPEG_QUALITY = 82
WEBP_QUALITY = 80
MASTER_QUALITY = 92
WHITE = (255, 255, 255)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


class ImageRefused(ValidationFailed):
    """A picture in an accepted format that cannot be used (damaged, too large); 422."""


class ImageTypeRefused(UnsupportedMediaType):
    """Not a JPEG, PNG, WebP nor HEIC picture; 415."""


@dataclass(frozen=True)
class Picture:
    """One encoded file: a variant, or the master."""

    name: str
    content_type: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Cleaned:
    """An upload made safe: its id (from the uploaded bytes, so that the same file is stored
    once), what it was, and its master (metadata-free, oriented, sRGB)."""

    media_id: str
    source_type: str
    width: int
    height: int
    has_alpha: bool
    master: Picture
    pixels: Image.Image  # the master's, to make its files without decoding it again


def media_id(data: bytes) -> str:
    """The id of an upload: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:32]


def sniff(data: bytes) -> str:
    """The format the bytes really are ("JPEG", "PNG", "WEBP" or "HEIF"); ``ImageTypeRefused``
    naming what is accepted otherwise."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and (head[8:12] in _HEIF_BRANDS or _heif_compatible(data)):
        return "HEIF"
    text = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in text:
        raise ImageTypeRefused(
            f"SVG pictures are not accepted (they can carry scripts): send a {ACCEPTED_TYPES} file"
        )
    if head.startswith((b"GIF87a", b"GIF89a")):
        raise ImageTypeRefused(f"GIF pictures are not accepted: send a {ACCEPTED_TYPES} file")
    raise ImageTypeRefused(f"this file is not a picture we accept: send a {ACCEPTED_TYPES} file")


def _heif_compatible(data: bytes) -> bool:
    """Whether an ISO media file's ``ftyp`` box lists a HEIF brand among its compatible ones."""
    size = int.from_bytes(data[:4], "big")
    if not 16 <= size <= 256:
        return False
    box = data[16:size]
    return any(box[i : i + 4] in _HEIF_BRANDS for i in range(0, len(box) - 3, 4))


def clean(data: bytes, *, max_pixels: int) -> Cleaned:
    """The master of an upload; ``ImageTypeRefused`` (415) or ``ImageRefused`` (422) saying why
    it cannot be used."""
    kind = sniff(data)
    if kind == "HEIF":
        _register_heif()
    # Pillow's own bomb check (a warning past 89 megapixels, an error past twice that) gives
    # way to ours, made on the same header before anything is decoded, at the size configured.
    Image.MAX_IMAGE_PIXELS = None
    # A truncated file is refused, never completed with grey: WeasyPrint turns this on for
    # the whole process when it is imported (it is, by PDFs made in the same process).
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (its warning is an error where warnings are, as in the tests).
        raise _too_large(max_pixels) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused(f"this {_named(kind)} file cannot be read: {_reason(exc)}") from None
    with image:
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise _too_large(max_pixels, width, height)
        icc = image.info.get("icc_profile")
        try:
            if kind == "JPEG":  # decode at the smallest DCT scale that still covers the master
                scale = min(1.0, MASTER_SIDE / max(width, height))
                image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))
            image.load()
            oriented = ImageOps.exif_transpose(image) or image
            pixels = _srgb(oriented, icc)
        except Image.DecompressionBombError:
            raise _too_large(max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRefused(
                f"this {_named(kind)} file is damaged or incomplete: {_reason(exc)}"
            ) from None
    pixels = _fit(pixels, MASTER_SIDE)
    alpha = pixels.mode == "RGBA"
    if alpha:
        master = _encode(pixels, "master", "WEBP", lossless=True)
    else:
        master = _encode(pixels, "master", "JPEG", quality=MASTER_QUALITY)
    return Cleaned(
        media_id=media_id(data),
        source_type={"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}.get(
            kind, "image/heic"
        ),
        width=pixels.width,
        height=pixels.height,
        has_alpha=alpha,
        master=master,
        pixels=pixels,
    )


def _too_large(max_pixels: int, width: int = 0, height: int = 0) -> ImageRefused:
    size = f" ({width} x {height} pixels)" if width and height else ""
    return ImageRefused(
        f"this picture is too large{size}: at most {max_pixels / 1_000_000:g} megapixels"
    )


def _named(kind: str) -> str:
    return {"HEIF": "HEIC", "WEBP": "WebP"}.get(kind, kind)


def _reason(exc: BaseException) -> str:
    """A one-line reason from Pillow's message, without paths or bytes."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120].rstrip(".")


_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow to open HEIC files (pillow-heif), once, when the first one comes."""
    global _heif_registered
    if _heif_registered:
        return
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - pillow-heif is a dependency; a build may lack it
        raise ImageTypeRefused(
            "HEIC pictures cannot be read on this server: send a JPEG, PNG or WebP file"
        ) from None
    pillow_heif.register_heif_opener()
    _heif_registered = True


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The picture's pixels in 8-bit sRGB, "RGB" or "RGBA" (alpha only when some pixel is not
    opaque), as a new image that carries none of the original's metadata."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):  # 16-bit grey: scale, not clip
        high = 65535 if image.mode.startswith("I;16") else int(image.getextrema()[1])  # type: ignore[arg-type]
        top = 65535 if high > 255 else 255
        image = image.convert("I").point(lambda v: v * (255 / top)).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    if image.mode in ("P", "PA"):
        image = image.convert(
            "RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB"
        )
    elif image.mode in ("LA", "La", "RGBa"):
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        image = image.convert("RGB")
    target = "RGBA" if image.mode == "RGBA" else "RGB"
    converted = None
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken profile: the pixels as they are
    if converted is None:
        converted = image.convert(target)
    if target == "RGBA" and converted.getchannel("A").getextrema() == (255, 255):
        converted = converted.convert("RGB")
    # A fresh image from the pixels alone: no EXIF, XMP, ICC, comment nor any info key.
    return Image.frombytes(converted.mode, converted.size, converted.tobytes())


def _fit(image: Image.Image, side: int) -> Image.Image:
    """The picture at most ``side`` pixels long."""
    if max(image.size) <= side:
        return image
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _flat(image: Image.Image) -> Image.Image:
    """The picture on white, for JPEG (no alpha)."""
    if image.mode != "RGBA":
        return image
    ground = Image.new("RGB", image.size, WHITE)
    ground.paste(image, mask=image.getchannel("A"))
    return ground


def _encode(
    image: Image.Image, name: str, kind: str, *, quality: int = 0, lossless: bool = False
) -> Picture:
    out = io.BytesIO()
    if kind == "JPEG":
        _flat(image).save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        content_type = "image/jpeg"
    else:
        image.save(out, "WEBP", quality=quality or WEBP_QUALITY, lossless=lossless, method=4)
        content_type = "image/webp"
    return Picture(name, content_type, image.width, image.height, out.getvalue())


def load_master(master: bytes) -> Image.Image:
    """The master's pixels (a file this module wrote)."""
    image = Image.open(io.BytesIO(master), formats=["JPEG", "WEBP"])
    image.load()
    return image


def variants(image: Image.Image) -> list[Picture]:
    """The responsive widths (WebP and JPEG) and the newsletter's JPEG of a master."""
    width, height = image.size
    found = []
    for shown in responsive_widths(width):
        scaled = image.resize(
            size_at(width, height, shown), Image.Resampling.LANCZOS, reducing_gap=2.0
        )
        found.append(_encode(scaled, f"{shown}.webp", "WEBP"))
        found.append(_encode(scaled, f"{shown}.jpg", "JPEG", quality=JPEG_QUALITY))
    mail = image.resize(
        size_at(width, height, MAIL_WIDTH), Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    found.append(_encode(mail, "mail.jpg", "JPEG", quality=JPEG_QUALITY))
    return found


def crops_of_master(
    master: bytes, focus: tuple[int, int], ratios: Iterable[str] = CROPS
) -> list[Picture]:
    """``crops`` of a stored master (a new focal point, after the upload)."""
    return crops(load_master(master), focus, ratios)


def crops(
    image: Image.Image, focus: tuple[int, int], ratios: Iterable[str] = CROPS
) -> list[Picture]:
    """Crops of a master around ``focus`` (percentages across and down), one per ratio of
    ``CROPS``: the largest window of that ratio whose centre is nearest the focal point."""
    found = []
    for ratio in ratios:
        target_w, target_h = CROPS[ratio]
        scale = max(target_w / image.width, target_h / image.height)
        box_w, box_h = target_w / scale, target_h / scale
        left = _clamp(image.width * focus[0] / 100 - box_w / 2, 0, image.width - box_w)
        top = _clamp(image.height * focus[1] / 100 - box_h / 2, 0, image.height - box_h)
        cropped = image.resize(
            (target_w, target_h),
            Image.Resampling.LANCZOS,
            box=(left, top, left + box_w, top + box_h),
            reducing_gap=2.0,
        )
        found.append(_encode(cropped, crop_name(ratio, focus), "JPEG", quality=JPEG_QUALITY))
    return found


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))
