"""What an uploaded file really is, and its safe stored form.

The type comes from the bytes (magic numbers), never from the name or the browser's claim.
Images are decoded and re-encoded with Pillow, which drops EXIF (GPS included) and any other
metadata; an image whose header announces more than ``MAX_IMAGE_PIXELS`` is refused before
its pixels are decoded. PDFs keep their bytes, and their text is extracted with pypdf
(page-marked) for models that take no PDF. Text files must be UTF-8.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_PIXELS = 40_000_000  # e.g. 8000 x 5000; a decompression bomb announces far more
MAX_PDF_PAGES = 1000
MAX_NAME_CHARS = 255
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
TEXT_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".csv": "text/csv"}
KINDS = "images (PNG, JPEG, WebP, GIF), PDFs and UTF-8 text files (plain, Markdown, CSV, code)"


class ContentError(ValueError):
    """A file Parlor will not store; the message says why, for the user."""


@dataclass(frozen=True)
class Checked:
    """A file fit to store: its bytes (re-encoded for an image), type and extracted text."""

    data: bytes
    media_type: str
    text: str | None = None

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


def sniff(head: bytes) -> str | None:
    """The image or PDF type of these leading bytes, or None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def safe_name(name: str | None) -> str:
    """The file's base name as metadata only: no folders, no control characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:MAX_NAME_CHARS] or "file"


def check(data: bytes, name: str, claimed_type: str | None = None) -> Checked:
    """The stored form of an upload, or ContentError saying why it is refused."""
    if not data:
        raise ContentError("The file is empty.")
    sniffed = sniff(data[:16])
    if sniffed and sniffed.startswith("image/"):
        return _image(data, sniffed)
    if sniffed == "application/pdf":
        return Checked(data, sniffed, _pdf_text(data))
    if (claimed_type or "").lower() in {*IMAGE_TYPES.values(), "application/pdf"}:
        raise ContentError(f"{name} claims to be {claimed_type} but is not: Parlor takes {KINDS}.")
    return Checked(data, TEXT_TYPES.get(PurePosixPath(name.lower()).suffix, "text/plain"),
                   _text(data, name))


def _image(data: bytes, sniffed: str) -> Checked:
    # Pillow (~2 MB a worker) is loaded by the first image, not by every worker at start
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as image:
                width, height = image.size  # from the header: nothing decoded yet
                frames = getattr(image, "n_frames", 1)
                if width * height * frames > MAX_IMAGE_PIXELS:
                    raise ContentError(
                        f"The image is too large ({width} × {height} pixels"
                        f"{f', {frames} frames' if frames > 1 else ''}); the limit is "
                        f"{MAX_IMAGE_PIXELS:,} pixels.")
                if IMAGE_TYPES.get(image.format or "") != sniffed:
                    raise ContentError("The image is damaged or not what its header says.")
                return Checked(_reencode(image), sniffed)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ContentError(f"The image is too large; the limit is {MAX_IMAGE_PIXELS:,} "
                           "pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ContentError):
            raise
        raise ContentError("The image could not be read; it may be damaged.") from None


def _reencode(image: Image.Image) -> bytes:
    """The pixels alone, saved afresh: no EXIF, XMP, comments or ICC profile come along."""
    from PIL import ImageOps

    out = io.BytesIO()
    if image.format == "GIF" and getattr(image, "n_frames", 1) > 1:
        image.save(out, format="GIF", save_all=True, loop=image.info.get("loop", 0),
                   duration=image.info.get("duration", 100))
        return out.getvalue()
    fmt = image.format
    upright = ImageOps.exif_transpose(image)  # the EXIF rotation, applied before it goes
    if fmt == "JPEG":
        upright = upright.convert("RGB") if upright.mode not in ("RGB", "L") else upright
        upright.save(out, format="JPEG", quality=90)
    elif fmt == "PNG":
        upright.save(out, format="PNG", optimize=False)
    elif fmt == "WEBP":
        upright.save(out, format="WEBP", quality=90)
    else:
        upright.save(out, format="GIF")
    return out.getvalue()


def thumbnail(data: bytes, size: int) -> tuple[bytes, str]:
    """A stored image made at most ``size`` pixels wide and high (the first frame of an
    animation), as PNG or JPEG; its bytes and media type."""
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as image:
        image.thumbnail((size, size))
        out = io.BytesIO()
        if image.format == "JPEG":
            image.save(out, format="JPEG", quality=85)
            return out.getvalue(), "image/jpeg"
        frame = image.convert("RGBA") if image.mode not in ("RGB", "RGBA", "L", "LA") else image
        frame.save(out, format="PNG")
        return out.getvalue(), "image/png"


def _pdf_text(data: bytes) -> str:
    # pypdf costs a worker ~20 MB: loaded by the first PDF, not by every worker at start
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ContentError("The PDF is protected by a password.")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ContentError(f"The PDF has more than {MAX_PDF_PAGES} pages.")
        return "\n\n".join(f"--- Page {number} ---\n{(page.extract_text() or '').strip()}"
                           for number, page in enumerate(reader.pages, start=1))
    except ContentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        raise ContentError("The PDF could not be read; it may be damaged.") from None


def _text(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise ContentError(f"{name} is not a file Parlor takes: it takes {KINDS}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContentError(f"{name} is not UTF-8 text: Parlor takes {KINDS}.") from None
