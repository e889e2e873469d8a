"""Badge codes: compact, versioned tokens signed with the edition's Ed25519 key.

Layout of version 1 (see docs/badges.md): the QR text is the RFC 4648 base32 alphabet, unpadded,
of 75 bytes::

    version u8 | edition_id u32 | registration_id u32 | badge_serial u16 | Ed25519 signature (64)

The signature covers ``b"EXPO-BADGE" + the first 11 bytes``. The code carries no personal data;
a scanner that holds the edition's public key can tell a real badge from a forged one offline.
"""
from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

VERSION = 1
_HEADER = struct.Struct(">BIIH")
_SIGNATURE_LEN = 64
_CONTEXT = b"EXPO-BADGE"
CODE_LENGTH = 120  # base32 characters of a version-1 code


class BadgeRefused(Exception):
    """A code that must not be honoured; ``reason`` is machine-readable."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BadgeClaim:
    version: int
    edition_id: int
    registration_id: int
    serial: int
    signed: bytes
    signature: bytes


def generate_keypair() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, public


def sign_badge(signing_key: bytes, edition_id: int, registration_id: int, serial: int) -> str:
    header = _HEADER.pack(VERSION, edition_id, registration_id, serial)
    signature = Ed25519PrivateKey.from_private_bytes(signing_key).sign(_CONTEXT + header)
    return base64.b32encode(header + signature).decode("ascii")


def read_badge(code: str) -> BadgeClaim:
    """Parse a code without trusting it. Raises BadgeRefused('malformed' | 'unsupported_version')."""
    text = "".join(code.split()).upper()
    if not text or len(text) > 4 * CODE_LENGTH:
        raise BadgeRefused("malformed")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise BadgeRefused("malformed") from None
    if len(raw) < _HEADER.size:
        raise BadgeRefused("malformed")
    if raw[0] != VERSION:
        raise BadgeRefused("unsupported_version")
    if len(raw) != _HEADER.size + _SIGNATURE_LEN:
        raise BadgeRefused("malformed")
    version, edition_id, registration_id, serial = _HEADER.unpack_from(raw)
    return BadgeClaim(version, edition_id, registration_id, serial, raw[: _HEADER.size], raw[_HEADER.size :])


def signature_valid(claim: BadgeClaim, verify_key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(verify_key).verify(claim.signature, _CONTEXT + claim.signed)
    except InvalidSignature:
        return False
    return True
