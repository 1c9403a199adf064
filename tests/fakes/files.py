"""Small real files for attachment tests: images (with EXIF GPS), a PDF with text, a bomb."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def png(color="red", size=(16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(size=(32, 32)) -> bytes:
    """A JPEG whose EXIF holds a GPS position and a camera make ("SpyCam")."""
    exif = Image.Exif()
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N",
                                   ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0)}
    exif[ExifTags.Base.Make] = "SpyCam"
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf(text: str = "Quarterly figures: 42 widgets") -> bytes:
    """A one-page PDF whose text pypdf extracts."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bomb(width=20_000, height=20_000) -> bytes:
    """A valid PNG of ``width`` x ``height`` black 1-bit pixels, a few dozen KB compressed,
    built row block by row block so the test itself never holds the pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    block = row * 500
    data = b"".join(packer.compress(block) for _ in range(height // 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))
