"""TFRecord files without TensorFlow: the framing (length, masked CRC-32C of the length, data, masked CRC-32C of
the data), CRC-32C itself (a compiled package where installed, else a table-driven fallback) and the protobuf wire
format a record's message is written in. Everything a record claims is bounded and checked: damaged or hostile files
raise :class:`~nasbench.errors.StoreError` (framing) or ValueError (a message), never allocate what they claim.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

from nasbench.errors import StoreError


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c_python(data: bytes) -> int:
    """CRC-32C (Castagnoli), table-driven: the fallback when no compiled crc32c package is installed."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _pick_crc32c() -> Callable[[bytes], int]:
    try:
        import google_crc32c

        if getattr(google_crc32c, "implementation", "c") == "c":
            return google_crc32c.value
    except ImportError:
        pass
    try:
        import crc32c as crc32c_package

        return crc32c_package.crc32c
    except ImportError:
        return crc32c_python


crc32c: Callable[[bytes], int] = _pick_crc32c()


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum: CRC-32C rotated right by 15 bits plus 0xa282ead8 (mod 2**32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecords(path: str | os.PathLike[str], *, max_record_bytes: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
    """(record number from 0, payload) of every record of a TFRecord file, CRCs verified; a record longer than
    ``max_record_bytes``, a wrong CRC or a truncated file raise :class:`StoreError` naming the record."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"no tfrecord file at {path}")
    with open(path, "rb") as f:
        number = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise StoreError(f"{path}: record {number}: truncated header ({len(header)} of 12 bytes)")
            length, length_crc = struct.unpack("<QI", header)
            if masked_crc32c(header[:8]) != length_crc:
                raise StoreError(f"{path}: record {number}: the length's CRC does not match (damaged file)")
            if length > max_record_bytes:
                raise StoreError(
                    f"{path}: record {number} claims {length:,} bytes; records of this reader are at most "
                    f"{max_record_bytes:,} (raise max_record_bytes)"
                )
            payload = f.read(length)
            footer = f.read(4)
            if len(payload) < length or len(footer) < 4:
                raise StoreError(f"{path}: record {number}: truncated ({len(payload)} of {length} bytes)")
            if masked_crc32c(payload) != struct.unpack("<I", footer)[0]:
                raise StoreError(f"{path}: record {number}: the data's CRC does not match (damaged file)")
            yield number, payload
            number += 1


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(pos + 10, len(buf))):
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i + 1
        shift += 7
    raise ValueError("a varint runs past its message or beyond 10 bytes")


def proto_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of a protobuf message: an int for varints, bytes otherwise; groups and
    lengths past the message's end raise ValueError."""
    pos, end = 0, len(buf)
    while pos < end:
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield field, wire, value
            continue
        if wire == 1:
            size = 8
        elif wire == 5:
            size = 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
        else:
            raise ValueError(f"wire type {wire} (groups are not part of this schema)")
        if pos + size > end:
            raise ValueError(f"field {field} claims {size} bytes, {end - pos} left")
        yield field, wire, buf[pos : pos + size]
        pos += size
