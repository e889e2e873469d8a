"""Uploaded images (expo.exhibitors.images): only real PNG/JPEG/WebP images under the limits get in, re-drawn
without metadata, upright, scaled into fixed boxes; hostile files are refused with a reason; files follow the
transaction (gone on rollback, removed only once a removal commits)."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from expo.core.services import ServiceError
from expo.exhibitors import images
from expo.extensions import db


def picture(size=(400, 300), fmt="PNG", mode="RGB", color=(200, 30, 30), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def refused(data: bytes, filename: str) -> str:
    with pytest.raises(ServiceError) as caught:
        images.clean_image(data, filename)
    return str(caught.value)


def png_claiming(width: int, height: int) -> bytes:
    """A small real PNG whose header (with a valid CRC) claims another size: a decompression bomb's header."""
    data = bytearray(picture((20, 20)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


# --- what gets in -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, name", [("PNG", "logo.png"), ("JPEG", "photo.jpg"), ("JPEG", "PHOTO.JPEG"),
                                       ("WEBP", "pic.webp")])
def test_png_jpeg_and_webp_are_accepted(fmt, name):
    image = images.clean_image(picture(fmt=fmt), name)
    assert image.size == (400, 300) and image.mode == "RGB"


def test_transparency_is_kept():
    image = images.clean_image(picture(mode="RGBA", color=(0, 0, 0, 0)), "logo.png")
    assert image.mode == "RGBA" and image.getpixel((5, 5))[3] == 0


def test_metadata_is_stripped_and_the_image_turned_upright(app, ctx):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010E] = "secret description"
    exif[0x8825] = {1: "N", 2: (22.0, 32.0, 0.0)}  # GPS position
    data = picture((80, 40), fmt="JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 128, comment=b"camera serial 42")
    assert b"secret description" in data and b"camera serial 42" in data
    image = images.clean_image(data, "shot.jpg")
    assert image.size == (40, 80)  # upright
    assert not image.info and not image.getexif()
    stored = images.store(image, images.PICTURE_SIZES, db.session)
    db.session.commit()
    for size in images.PICTURE_SIZES:
        written = images.path_of(stored.key, size).read_bytes()
        assert b"secret description" not in written and b"camera serial 42" not in written
        reopened = Image.open(io.BytesIO(written))
        assert reopened.format == "WEBP" and not reopened.getexif()
        assert "exif" not in reopened.info and "icc_profile" not in reopened.info


def test_sizes_are_fixed_boxes_never_enlarged(app, ctx):
    stored = images.store(images.clean_image(picture((2000, 1000)), "wide.png"), images.PICTURE_SIZES, db.session)
    db.session.commit()
    sizes = {size: Image.open(images.path_of(stored.key, size)).size for size in images.PICTURE_SIZES}
    assert sizes == {"s": (320, 160), "l": (1200, 600)}
    assert (stored.width, stored.height) == (1200, 600)
    small = images.store(images.clean_image(picture((60, 50)), "small.png"), images.LOGO_SIZES, db.session)
    db.session.commit()
    assert Image.open(images.path_of(small.key, "m")).size == (60, 50)  # never scaled up
    assert len(stored.key) == 32 and stored.key != small.key


def test_an_animation_keeps_its_first_frame():
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (50, 50), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    image = images.clean_image(buffer.getvalue(), "anim.png")
    assert image.getpixel((1, 1)) == (255, 0, 0)


# --- hostile files --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["logo.gif", "logo.svg", "logo.exe", "logo", "logo.png.exe", "logo.png\x00.exe",
                                  "", ".png.", "logo.bmp"])
def test_other_extensions_are_refused(name):
    assert "PNG, JPEG or WebP" in refused(picture(), name)


@pytest.mark.parametrize("data", [b"", b"hello, world", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"GIF89a" + b"\0" * 100, b"MZ\x90\x00" + b"\0" * 200, b"%PDF-1.7\n",
                                  b"<html><script>alert(1)</script></html>"])
def test_what_is_not_an_image_is_refused(data):
    assert refused(data, "logo.png") == "This file is not a PNG, JPEG or WebP image."


def test_a_wrong_extension_is_refused():
    message = refused(picture(fmt="PNG"), "photo.jpg")
    assert ".jpg" in message and "PNG" in message
    assert "JPEG" in refused(picture(fmt="JPEG"), "logo.webp")


@pytest.mark.parametrize("size", [(100_000, 100_000), (9000, 100), (100, 8001), (7000, 7000), (2**31 - 1, 1)])
def test_huge_dimensions_and_decompression_bombs_are_refused_before_decoding(size):
    assert "too large" in refused(png_claiming(*size), "bomb.png")


def test_a_real_decompression_bomb_is_refused():
    """A 9000×9000 black PNG: about 80 kB on disk, 243 MB once decoded."""
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG", optimize=True)
    data = buffer.getvalue()
    assert len(data) < 200_000
    assert "too large" in refused(data, "bomb.png")


def test_too_small_is_refused():
    assert "too small" in refused(picture((8, 300)), "line.png")


@pytest.mark.parametrize("fmt, name", [("PNG", "cut.png"), ("JPEG", "cut.jpg"), ("WEBP", "cut.webp")])
def test_a_truncated_or_damaged_image_is_refused(fmt, name):
    data = picture((300, 300), fmt=fmt, color=(10, 200, 90))
    assert "damaged" in refused(data[:len(data) // 2], name)
    assert "damaged" in refused(data[:40], name) or "not a" in refused(data[:40], name)


def test_a_png_with_a_bad_crc_is_refused():
    data = bytearray(picture())
    data[29] ^= 0xFF  # the header's checksum
    assert "damaged" in refused(bytes(data), "logo.png")


def test_a_file_over_the_limit_is_refused_without_reading_it_all():
    stream = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * (images.MAX_BYTES + 10))
    with pytest.raises(ServiceError, match="too large"):
        images.read_upload(stream)
    assert stream.tell() == images.MAX_BYTES + 1
    with pytest.raises(ServiceError, match="Choose an image"):
        images.read_upload(io.BytesIO(b""))


# --- files follow the transaction ------------------------------------------------------------------------

def test_files_of_a_rolled_back_transaction_are_removed(app, ctx):
    stored = images.store(images.clean_image(picture(), "a.png"), images.LOGO_SIZES, db.session)
    paths = [images.path_of(stored.key, size) for size in images.LOGO_SIZES]
    assert all(p.is_file() for p in paths)
    db.session.rollback()
    assert not any(p.exists() for p in paths)


def test_discarded_files_go_only_when_the_transaction_commits(app, ctx):
    stored = images.store(images.clean_image(picture(), "a.png"), images.LOGO_SIZES, db.session)
    db.session.commit()
    path = images.path_of(stored.key, "s")
    images.discard(stored.key, db.session)
    db.session.rollback()
    assert path.is_file()  # the removal was rolled back: the image is still in use
    images.discard(stored.key, db.session)
    db.session.commit()
    assert not path.exists()


@pytest.mark.parametrize("key", ["../../etc/passwd", "A" * 32, "0" * 31, "0" * 32 + "/x"])
def test_paths_are_only_made_from_keys(app, ctx, key):
    with pytest.raises(ValueError):
        images.path_of(key, "s")
