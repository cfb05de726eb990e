"""The upload validator: files are judged by their content, never by their name."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from rak_base.uploads import (
    DOCUMENT_KINDS,
    IMAGE_KINDS,
    SPREADSHEET_KINDS,
    UploadMissing,
    UploadTooLarge,
    UploadWrongKind,
    detect_kind,
    upload_validate,
)


def image_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(content: bytes, name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("fmt", "kind", "extension"), [("PNG", "png", "png"), ("JPEG", "jpeg", "jpg"), ("WEBP", "webp", "webp")]
)
def test_real_images_are_accepted_with_detected_type(fmt, kind, extension):
    validated = upload_validate(upload(image_bytes(fmt), name="IMG_0001.bin"), kinds=IMAGE_KINDS)
    assert (validated.kind, validated.extension) == (kind, extension)
    assert validated.mime.startswith("image/")
    assert len(validated.sha256) == 64


def test_heic_is_recognised_by_its_ftyp_box():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert detect_kind(heic) == "heic"
    assert upload_validate(upload(heic, name="IMG.HEIC"), kinds=IMAGE_KINDS).extension == "heic"


def test_text_renamed_as_png_is_refused_in_french():
    with pytest.raises(UploadWrongKind) as refused:
        upload_validate(upload(b"ceci n'est pas une image", name="index.png"), kinds=IMAGE_KINDS)
    assert "format accepté" in refused.value.message
    assert "JPEG, PNG, WebP ou HEIC" in refused.value.message


def test_png_header_without_a_picture_is_refused():
    fake = image_bytes("PNG")[:16] + b"\x00garbage" * 20
    with pytest.raises(UploadWrongKind):
        upload_validate(upload(fake), kinds=IMAGE_KINDS)


def test_pdf_is_refused_where_only_images_are_allowed_and_accepted_for_documents():
    pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    with pytest.raises(UploadWrongKind):
        upload_validate(upload(pdf, name="scan.jpg"), kinds=IMAGE_KINDS)
    assert upload_validate(upload(pdf, name="cin.pdf"), kinds=DOCUMENT_KINDS).kind == "pdf"


def test_zip_and_rar_archives_are_recognised():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cin.txt", "x")
    assert upload_validate(upload(buffer.getvalue(), name="pieces.zip"), kinds=DOCUMENT_KINDS).kind == "zip"
    rar = b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64
    assert upload_validate(upload(rar, name="pieces.rar"), kinds=DOCUMENT_KINDS).kind == "rar"


def test_too_large_is_refused_with_the_limit(settings):
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    big = image_bytes("PNG") + b"\x00" * (2 * 1024 * 1024)
    with pytest.raises(UploadTooLarge) as refused:
        upload_validate(upload(big), kinds=IMAGE_KINDS)
    assert "2 Mo" in refused.value.message
    with pytest.raises(UploadTooLarge):
        upload_validate(upload(image_bytes("PNG")), kinds=IMAGE_KINDS, max_bytes=100)


def test_missing_or_empty_file_uses_the_callers_message():
    with pytest.raises(UploadMissing) as refused:
        upload_validate(None, kinds=IMAGE_KINDS, missing_message="Vous devez joindre une photo.")
    assert refused.value.message == "Vous devez joindre une photo."
    with pytest.raises(UploadMissing):
        upload_validate(upload(b""), kinds=IMAGE_KINDS)


def test_spreadsheets_csv_as_text_and_xlsx_by_structure():
    from openpyxl import Workbook

    csv_content = "N° dossier;Date de relève;Index\r\nD1;02/03/2026;1250\r\n".encode("cp1252")
    assert upload_validate(upload(csv_content, name="releves.csv"), kinds=SPREADSHEET_KINDS).kind == "csv"
    workbook = Workbook()
    workbook.active.append(["N° dossier", "Date de relève", "Index"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert upload_validate(upload(buffer.getvalue(), name="releves.bin"), kinds=SPREADSHEET_KINDS).kind == "xlsx"
    with pytest.raises(UploadWrongKind):
        upload_validate(upload(image_bytes("PNG"), name="releves.csv"), kinds=SPREADSHEET_KINDS)


def test_stored_names_are_random_with_the_detected_extension():
    validated = upload_validate(upload(image_bytes("JPEG"), name="../../etc/passwd.png"), kinds=IMAGE_KINDS)
    first, second = validated.stored_name(), validated.stored_name()
    assert first != second
    assert first.endswith(".jpg") and "/" not in first and "passwd" not in first


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown upload kinds"):
        upload_validate(upload(image_bytes()), kinds={"gif"})


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` × ``height`` white pixels: a few KB on disk, gigabytes once
    decoded (a « decompression bomb »)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8_000, 20_000, 60_000])
def test_decompression_bomb_is_refused_in_french(side):
    content = bomb_png(side, side)
    assert len(content) < 2 * 1024 * 1024  # passes the size limit: only the pixel count betrays it
    with pytest.raises(UploadTooLarge) as refused:
        upload_validate(upload(content), kinds=IMAGE_KINDS)
    assert "L'image est trop grande" in refused.value.message


def test_a_phone_photo_size_image_is_accepted():
    validated = upload_validate(upload(bomb_png(4_000, 3_000)), kinds=IMAGE_KINDS)
    assert validated.kind == "png"
