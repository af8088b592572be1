"""Decode an uploaded text file without ever inventing characters (casebook C05, C06).

Order: UTF-8 (with or without a BOM, strict), then GB18030 (a strict superset of GBK and GB2312).
`errors="replace"` is never used: a file that is none of these is a whole-file problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion_service.domain.problems import FileProblem

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def decode_text(data: bytes) -> DecodedText:
    if data.startswith(UTF16_BOMS):
        raise FileProblem(
            "unsupported_encoding",
            "the file is UTF-16 encoded; save it as 'CSV UTF-8' (or GB18030) and upload again",
        )
    if data.startswith(UTF8_BOM):
        try:
            return DecodedText(data.decode("utf-8-sig"), "utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileProblem("undecodable", f"the file starts with a UTF-8 BOM but is not UTF-8: {exc}") from exc
    if b"\x00" in data:
        raise FileProblem("binary_file", "the file contains NUL bytes: it is not a text (CSV / JSON lines) file")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            return DecodedText(data.decode("gb18030"), "gb18030")
        except UnicodeDecodeError as gb_error:
            raise FileProblem(
                "undecodable",
                "the file is neither UTF-8 nor GB18030/GBK "
                f"(UTF-8: byte {data[utf8_error.start]:#04x} at position {utf8_error.start}; "
                f"GB18030: byte {data[gb_error.start]:#04x} at position {gb_error.start})",
            ) from gb_error
