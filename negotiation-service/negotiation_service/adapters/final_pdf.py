"""Render the final document as a PDF with fpdf2 and an embedded Noto Sans CJK SC subset.

Every font is embedded, as a TrueType subset so that any extractor reads the text back (see
truetype_subset). A character the CJK font cannot draw makes the rendering fail loudly (casebook
C10): nothing is dropped silently. Same inputs, same bytes.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from negotiation_service.adapters.truetype_subset import drawable_codepoints, write_truetype_subset
from negotiation_service.domain.final_document import (
    CATEGORY_LABELS,
    CHANGE_LABELS,
    POLICY_LABELS,
    SLOT_LABELS,
    STATUS_LABELS,
    TIER_LABELS,
    VERDICT_LABELS,
    FinalDocument,
    money,
    shanghai_text,
)
from negotiation_service.domain.requests import AdjustmentRequest

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_COLLECTION_INDEX = 2  # Noto Sans CJK SC (Simplified Chinese) inside the collection
_STATIC_TEXT = (
    "目标包最终版本：目标包：版本：指标：考核期：至协商窗口：（北京时间）调整政策：总部总目标：原最终生成时间："
    "区域：合计调整申请：→申请（）状态：申请人提交理由：证据：；于+-,.0123456789基础版本：最终版本：未定"
)


class MissingGlyphError(ValueError):
    def __init__(self, characters: list[str]) -> None:
        listed = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in characters)
        super().__init__(f"the embedded font cannot draw: {listed}")
        self.characters = characters


class FontUnavailableError(RuntimeError):
    pass


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    sha256: str


def render_final_pdf(document: FinalDocument, font_path: Path = CJK_FONT) -> RenderedPdf:
    if not font_path.exists():
        raise FontUnavailableError(f"CJK font missing at {font_path}: install the fonts-noto-cjk package")
    text = _all_text(document) + _labels_text()
    drawable = drawable_codepoints(font_path, CJK_COLLECTION_INDEX)
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in drawable})
    if missing:
        raise MissingGlyphError(missing)
    with tempfile.TemporaryDirectory(prefix="quotaflow-font-") as scratch:
        subset_path = write_truetype_subset(font_path, CJK_COLLECTION_INDEX, text, Path(scratch) / "cjk.ttf")
        pdf = FPDF(orientation="L", unit="mm", format="A4")
        pdf.set_creation_date(document.generated_at)  # reproducible bytes
        pdf.set_auto_page_break(auto=True, margin=12)
        pdf.add_font("cjk", fname=str(subset_path))
        pdf.set_font("cjk", size=10)
        pdf.add_page()
        _title(pdf, document)
        for region in document.regions():
            _region(pdf, document, region)
        content = bytes(pdf.output())
    dropped = sorted({chr(code) for font in pdf.fonts.values() for code in font.missing_glyphs})
    if dropped:
        raise MissingGlyphError(dropped)
    return RenderedPdf(content, hashlib.sha256(content).hexdigest())


def _labels_text() -> str:
    parts = [_STATIC_TEXT, *_CITY_HEADER]
    for labels in (CATEGORY_LABELS, CHANGE_LABELS, POLICY_LABELS, SLOT_LABELS, STATUS_LABELS, TIER_LABELS,
                   VERDICT_LABELS):
        parts.extend(labels.values())
    return "".join(parts)


def _title(pdf: FPDF, document: FinalDocument) -> None:
    package, window = document.package, document.window
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 9, f"目标包最终版本：{package.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    lines = [
        f"目标包：{package.package_id}  基础版本：{document.base_version}  "
        f"最终版本：{document.final_version if document.final_version is not None else '未定'}  指标：{package.metric}",
        f"考核期：{package.period_start.isoformat()} 至 {package.period_end.isoformat()}",
        f"协商窗口：{shanghai_text(window.opened_at)} 至 {shanghai_text(window.closes_at)}（北京时间）",
        f"调整政策：{POLICY_LABELS[document.final.policy]}",
        f"总部总目标：原 {document.amount(package.total)}  最终 {document.amount(document.final.total)}",
        f"生成时间：{shanghai_text(document.generated_at)}（北京时间）",
    ]
    for text in lines:
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


_CITY_HEADER = ("城市", "代码", "等级", "基数", "原目标", "调整", "最终目标", "费用预算", "说明")
_CITY_WIDTHS = (34, 22, 20, 32, 32, 28, 32, 30, 43)


def _region(pdf: FPDF, document: FinalDocument, region: str) -> None:
    pdf.set_font("cjk", size=13)
    pdf.multi_cell(0, 8, f"区域：{region}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    with pdf.table(col_widths=_CITY_WIDTHS, text_align="RIGHT", headings_style=FontFace(emphasis=None),
                   line_height=6, first_row_as_headings=True) as table:
        table.row(_CITY_HEADER)
        for line in document.lines_in(region):
            table.row((
                line.city_name, line.city_code, TIER_LABELS.get(line.tier, line.tier), document.amount(line.base),
                document.amount(line.original_target), document.change(line.adjustment),
                document.amount(line.final_target), money(line.expense_budget), CHANGE_LABELS[line.change],
            ))
        table.row((
            "合计", "", "", document.amount(document.region_total(region, "base")),
            document.amount(document.region_total(region, "original_target")),
            document.change(document.region_total(region, "final_target")
                            - document.region_total(region, "original_target")),
            document.amount(document.region_total(region, "final_target")),
            money(document.region_total(region, "expense_budget")), "",
        ))
    pdf.ln(2)
    for request in document.requests_in(region):
        _request(pdf, document, request)
    pdf.ln(3)


def _request(pdf: FPDF, document: FinalDocument, request: AdjustmentRequest) -> None:
    pdf.set_font("cjk", size=9)
    header = (
        f"调整申请 {request.request_id}：{request.city_name}  原目标 {document.amount(request.current_target)} → "
        f"申请 {document.amount(request.claim)}（{CATEGORY_LABELS[request.category.value]}） "
        f"状态：{STATUS_LABELS[request.status]}  申请人 {request.requester_id}  提交 {shanghai_text(request.filed_at)}"
    )
    pdf.multi_cell(0, 5, header, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, f"理由：{request.reason}", new_x="LMARGIN", new_y="NEXT")
    if request.evidence:
        pdf.multi_cell(0, 5, "证据：" + "；".join(request.evidence), new_x="LMARGIN", new_y="NEXT")
    for decision in (request.director, request.finance):
        if decision is None:
            continue
        text = (
            f"{SLOT_LABELS[decision.slot]} {decision.actor_id} {VERDICT_LABELS[decision.verdict]} "
            f"于 {shanghai_text(decision.at)}" + (f"：{decision.comment}" if decision.comment else "")
        )
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _all_text(document: FinalDocument) -> str:
    parts = [document.package.name, document.package.package_id, document.package.metric]
    for line in document.final.lines:
        parts += [line.city_name, line.city_code, line.region, TIER_LABELS.get(line.tier, line.tier)]
    for request in document.requests:
        parts += [request.request_id, request.reason, request.requester_id, *request.evidence]
        for decision in (request.director, request.finance):
            if decision is not None:
                parts += [decision.actor_id, decision.comment]
    return "".join(parts)
