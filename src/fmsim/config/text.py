"""Reading a user's text file (configuration YAML, lab-data CSV) whatever its encoding.

Accepted: UTF-8 with or without a byte-order mark (BOM), UTF-16 and UTF-32 with a BOM (what
Excel and Windows Notepad write as "Unicode"), and, for files that are not valid UTF-8, Latin-1
in its Windows-1252 form (what older Windows editors write). Refused with one line naming the
file: folders, missing or unreadable files, files larger than the caller's limit, binary files
(a NUL byte, or control characters making up more than 1 % of the text), UTF-16 without a
BOM, and bytes that fit none of these encodings.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

__all__ = ["TextFileError", "decode_text", "read_text_file"]

# Longest BOMs first: the UTF-32 LE mark begins with the UTF-16 LE mark.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# C0 control characters that never occur in a text file (tab, newlines, form feed do).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
#: Share of control characters above which a file is binary, not text.
MAX_CONTROL_SHARE = 0.01


class TextFileError(ValueError):
    """A file cannot be read as text. ``str(error)`` is one line naming the file."""


def read_text_file(path: Path, kind: str, max_bytes: int) -> str:
    """The decoded text of ``path``, a ``kind`` of file (e.g. "YAML file") of at most
    ``max_bytes`` bytes; raises :class:`TextFileError` in one line otherwise."""
    if path.is_dir():
        raise TextFileError(f"{path}: is a folder; expected a {kind}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TextFileError(
                f"{path}: file is {_size(size)}, more than the {_size(max_bytes)} a {kind} may "
                "have; is this the right file?"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise TextFileError(f"{path}: cannot read file: file not found") from None
    except OSError as error:
        raise TextFileError(f"{path}: cannot read file ({error.strerror})") from None
    try:
        return decode_text(data)
    except ValueError as error:
        raise TextFileError(f"{path}: {error}; expected a {kind}") from None


def decode_text(data: bytes) -> str:
    """Decode ``data`` (see the module docstring for the encodings); ValueError says why not."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"starts with a {name} byte-order mark but is not valid {name} "
                    f"(byte {error.start})"
                ) from None
            return _check_control(text.removeprefix("\ufeff"), name)
    if b"\x00" in data:
        odd, even = data[1::2].count(0), data[0::2].count(0)
        if max(odd, even) > 0.4 * (len(data) // 2):
            raise ValueError("looks like UTF-16 text without a byte-order mark; save it as UTF-8")
        raise ValueError(f"is a binary file (a NUL byte at byte {data.index(0)}), not text")
    try:
        return _check_control(data.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        return _check_control(data.decode("cp1252"), "Latin-1")
    except UnicodeDecodeError:
        position = utf8_error.start
        raise ValueError(
            f"is neither UTF-8 nor Latin-1 (Windows-1252) text (byte 0x{data[position]:02x} at "
            f"byte {position}); save it as UTF-8"
        ) from None


def _check_control(text: str, encoding: str) -> str:
    """``text``, unless control characters make it binary: a NUL, or more than
    :data:`MAX_CONTROL_SHARE` of the characters (a stray one is left for the parser to
    report where it is)."""
    controls = _CONTROL.findall(text)
    if "\x00" in controls or len(controls) > max(8, MAX_CONTROL_SHARE * len(text)):
        match = _CONTROL.search(text)
        line = text.count("\n", 0, match.start()) + 1
        raise ValueError(
            f"is a binary file, not {encoding} text ({len(controls)} control characters, the "
            f"first 0x{ord(match.group()):02x} on line {line})"
        )
    return text


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"
