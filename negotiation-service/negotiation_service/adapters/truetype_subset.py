"""A TrueType-outline subset of a CFF (OpenType/CFF) font, made for one document.

Noto Sans CJK ships CFF outlines only. fpdf2 embeds those with an embedded CMap as /Encoding, which
poppler reads but pypdf and other simple extractors do not (they fall back to one-byte codes and
return NUL-interleaved text). A TrueType subset is embedded as CIDFontType2 with Identity-H, which
every extractor reads. Only the characters the document uses are converted, so it stays fast.
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

MAX_CONVERSION_ERROR = 1.0  # font units (of 1000): invisible at any print size


def drawable_codepoints(font_path: Path, collection_index: int | None = None) -> set[int]:
    font = TTFont(str(font_path), fontNumber=collection_index if collection_index is not None else -1, lazy=True)
    try:
        return set(font.getBestCmap())
    finally:
        font.close()


def write_truetype_subset(font_path: Path, collection_index: int, text: str, destination: Path) -> Path:
    font = TTFont(str(font_path), fontNumber=collection_index, recalcTimestamp=False)
    options = subset.Options()
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in text} | set(range(0x20, 0x7F)))
    subsetter.subset(font)
    if "CFF " in font:
        _cff_to_glyf(font)
    font.save(str(destination))
    font.close()
    return destination


def _cff_to_glyf(font: TTFont) -> None:
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_CONVERSION_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font["head"].glyphDataFormat = 0
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(glyph_order)
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = glyph_order
    font.sfntVersion = "\x00\x01\x00\x00"
