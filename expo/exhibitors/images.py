"""Uploaded images (logos, product pictures) made safe with Pillow, and their files.

An upload is refused with a reason unless it is a PNG, JPEG or WebP image whose name ends in its own kind's
extension, no larger than ``MAX_BYTES``, no larger than ``MAX_SIDE`` pixels a side and ``MAX_PIXELS`` in all
(checked from the header, before any pixel is decoded: a decompression bomb is refused unopened), and that
Pillow decodes in full. What is kept is never the upload: the first frame is re-drawn into a new image (no
EXIF, GPS, ICC or comments survive), turned upright by its EXIF orientation, scaled down to fixed sizes and
written as WebP under ``INSTANCE_DIR/media/<key[:2]>/<key>-<size>.webp``. The key is random (32 hex digits), so
a file's name says nothing and its content never changes: it is served with a year-long cache lifetime.

Files follow the transaction: written files of a rolled-back transaction are removed, and files marked for
removal go only once the transaction commits (``discard``).
"""
from __future__ import annotations

import io
import re
import secrets
import warnings
from struct import error as struct_error  # some decoders raise it on truncated headers
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..core.db import on_commit
from ..core.services import ServiceError

MAX_BYTES = 5 * 1024 * 1024  # an upload
MAX_SIDE = 8000  # pixels, either side
MAX_PIXELS = 40_000_000  # width × height
MIN_SIDE = 16  # smaller is no picture of anything
FORMATS = {"PNG": ("png",), "JPEG": ("jpg", "jpeg"), "WEBP": ("webp",)}
EXTENSIONS = {ext: fmt for fmt, exts in FORMATS.items() for ext in exts}
# Magic numbers, checked before Pillow looks at the bytes at all.
SIGNATURES = {"PNG": (b"\x89PNG\r\n\x1a\n",), "JPEG": (b"\xff\xd8\xff",)}

# Sizes kept of each kind: name -> the box the image is scaled down into (never up).
LOGO_SIZES = {"s": (96, 96), "m": (256, 256)}
PICTURE_SIZES = {"s": (320, 320), "l": (1200, 1200)}
NAME = re.compile(r"(?P<key>[0-9a-f]{32})-(?P<size>[a-z])\.webp")
ALL_SIZES = set(LOGO_SIZES) | set(PICTURE_SIZES)


@dataclass(frozen=True)
class Stored:
    key: str
    width: int  # of the largest size kept
    height: int


def _refuse(message, field="file"):
    raise ServiceError(message, field)


def _kind(data: bytes) -> str | None:
    for fmt, signatures in SIGNATURES.items():
        if data.startswith(signatures):
            return fmt
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def read_upload(stream, limit: int = MAX_BYTES) -> bytes:
    """At most ``limit`` bytes of an upload; more is refused (without reading the rest)."""
    data = stream.read(limit + 1) if stream is not None else b""
    if not data:
        _refuse(_l("Choose an image file to upload."))
    if len(data) > limit:
        _refuse(_l("The file is too large: at most %(mb)s MB.", mb=limit // (1024 * 1024)))
    return data


def clean_image(data: bytes, filename: str) -> Image.Image:
    """The upload as a new, upright RGB/RGBA image carrying no metadata, or a ServiceError saying why not."""
    name = (filename or "").strip().lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in EXTENSIONS:
        _refuse(_l("Upload a PNG, JPEG or WebP image (a file ending in .png, .jpg, .jpeg or .webp)."))
    if len(data) > MAX_BYTES:
        _refuse(_l("The file is too large: at most %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)))
    kind = _kind(data)
    if kind is None:
        _refuse(_l("This file is not a PNG, JPEG or WebP image."))
    if EXTENSIONS[extension] != kind:
        _refuse(_l("The file's name ends in .%(ext)s but it holds a %(kind)s image: rename it and try again.",
                   ext=extension, kind=kind))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data), formats=[kind])
            width, height = probe.size
            if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                _refuse(_l("The image is too large: at most %(side)s pixels a side and %(mp)s megapixels.",
                           side=MAX_SIDE, mp=MAX_PIXELS // 1_000_000))
            if width < MIN_SIDE or height < MIN_SIDE:
                _refuse(_l("The image is too small: at least %(side)s pixels a side.", side=MIN_SIDE))
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=[kind])
            if image.size != (width, height):
                _refuse(_l("This image file is damaged."))
            image.seek(0)  # an animation keeps its first frame
            if kind == "JPEG":
                image.draft("RGB", (PICTURE_SIZES["l"][0] * 2, PICTURE_SIZES["l"][1] * 2))
            image.load()
            image = ImageOps.exif_transpose(image)
        except ServiceError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            _refuse(_l("The image is too large: at most %(side)s pixels a side and %(mp)s megapixels.",
                       side=MAX_SIDE, mp=MAX_PIXELS // 1_000_000))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, IndexError, EOFError,
                MemoryError, struct_error):
            _refuse(_l("This image file is damaged or not an image Pillow can read."))
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if transparent else "RGB"
    try:
        pixels = image.convert(mode)
    except (OSError, ValueError) as error:  # exotic modes (e.g. 16-bit grey) that do not convert
        raise ServiceError(_l("This image file is damaged or not an image Pillow can read."), "file") from error
    clean = Image.new(mode, pixels.size)  # a new image: none of the upload's metadata comes along
    clean.paste(pixels)
    return clean


def media_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "media"


def path_of(key: str, size: str) -> Path:
    if not NAME.fullmatch(f"{key}-{size}.webp"):
        raise ValueError(f"not an image key: {key!r}")
    return media_dir() / key[:2] / f"{key}-{size}.webp"


def file_name(key: str, size: str) -> str:
    return f"{key}-{size}.webp"


def store(image: Image.Image, sizes: dict[str, tuple[int, int]], session: Session) -> Stored:
    """Write the image scaled into each box of ``sizes`` (WebP) under a new random key. The files go away
    again if ``session``'s transaction rolls back."""
    session.connection()  # in a transaction from here on: its rollback removes the files
    key = secrets.token_hex(16)
    folder = media_dir() / key[:2]
    folder.mkdir(parents=True, exist_ok=True)
    largest = (0, 0)
    for size, box in sizes.items():
        copy = image.copy()
        copy.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=3.0)
        target = path_of(key, size)
        _written(session).append(target)
        buffer = io.BytesIO()
        copy.save(buffer, "WEBP", quality=85, method=2)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(target)
        if copy.width * copy.height > largest[0] * largest[1]:
            largest = copy.size
    return Stored(key, *largest)


def discard(key: str | None, session: Session) -> None:
    """Remove the image's files once the transaction commits (kept if it rolls back)."""
    if key:
        root = media_dir()
        on_commit(lambda: _remove_key(root, key))


def _written(session: Session) -> list:
    return session.info.setdefault("media_written", [])


def _remove_key(root: Path, key: str) -> None:
    for size in ALL_SIZES:
        try:
            (root / key[:2] / f"{key}-{size}.webp").unlink(missing_ok=True)
        except OSError:
            pass


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    session.info.pop("media_written", None)  # committed: the files stay


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    for path in session.info.pop("media_written", None) or ():
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            pass
