"""The archived final PDF (casebook C10): Chinese text extractable, all fonts embedded, no silent
glyph loss, SHA-256 recorded."""

import hashlib
import io
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D

import pytest
from negotiation_service.adapters.final_pdf import MissingGlyphError, render_final_pdf
from negotiation_service.domain.approval import decide
from negotiation_service.domain.closing import expire_pending, final_version
from negotiation_service.domain.final_document import FinalDocument
from negotiation_service.domain.requests import Claim, file_request
from pypdf import PdfReader

from shared.timeutil import SHANGHAI


def build_document(package, window, people, city_name_override=None):
    if city_name_override:
        lines = tuple(replace(line, city_name=city_name_override) if line.city_code == "330200" else line
                      for line in package.lines)
        package = replace(package, lines=lines)
    filed = datetime(2024, 6, 2, 10, 0, tzinfo=SHANGHAI)
    sh = file_request("req-sh", window, package, people["sh_manager"],
                      Claim("310100", D("700000"), "competitor", "竞品在浦东新开三家旗舰店", ("evidence/浦东.jpg",)), filed)
    sh = decide(sh, window, people["east_director"], "approve", datetime(2024, 6, 2, 15, 0, tzinfo=SHANGHAI), "同意")
    sh = decide(sh, window, people["finance"], "approve", datetime(2024, 6, 3, 9, 30, tzinfo=SHANGHAI), "预算可承受")
    hz = file_request("req-hz", window, package, people["hz_manager"],
                      Claim("330100", D("90000"), "weather", "梅雨季延长"), filed)
    requests = expire_pending([sh, hz], window.closes_at)
    final = final_version(package, requests)
    return FinalDocument.build(package, window, final, requests, window.closes_at)


@pytest.fixture(scope="module")
def pdf_bytes(package, window, people):
    return render_final_pdf(build_document(package, window, people))


def test_text_is_extractable_with_chinese_names_and_figures(pdf_bytes):
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes.content)).pages)
    for expected in ("2024年第三季度销售目标", "华东", "华南", "上海", "杭州", "宁波", "苏州", "广州", "深圳",
                     "726,804", "700,000", "-26,804", "120,024", "+10,724", "29,978", "150,003",
                     "1,900,005", "竞品在浦东新开三家旗舰店", "梅雨季延长", "已批准", "已过期",
                     "区域总监 u_zhang 批准 于 2024-06-02 15:00:00", "财务 u_zhao 批准 于 2024-06-03 09:30:00",
                     "2024-06-01 09:00:00 至 2024-06-04 09:00:00", "2024-07-01 至 2024-09-30", "高潜力"):
        assert expected in text, expected
    assert "\u25a0" not in text


def test_every_font_is_embedded(pdf_bytes):
    reader = PdfReader(io.BytesIO(pdf_bytes.content))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            fonts[str(target["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    assert any("NotoSansCJK" in name for name in fonts)


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_pdffonts_reports_all_embedded(pdf_bytes, tmp_path):
    path = tmp_path / "final.pdf"
    path.write_bytes(pdf_bytes.content)
    output = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = output.strip().splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5] == "yes", row  # the "emb" column


def test_sha256_is_of_the_bytes_and_rendering_is_reproducible(pdf_bytes, package, window, people):
    assert pdf_bytes.sha256 == hashlib.sha256(pdf_bytes.content).hexdigest()
    again = render_final_pdf(build_document(package, window, people))
    assert again.sha256 == pdf_bytes.sha256


def test_c10_missing_glyph_fails_loudly(package, window, people):
    document = build_document(package, window, people, city_name_override="𡉃城")
    with pytest.raises(MissingGlyphError) as caught:
        render_final_pdf(document)
    assert caught.value.characters == ["𡉃"]
    assert "U+21243" in str(caught.value)


def test_figures_are_in_the_metrics_unit_and_the_header_names_both_versions(package, window, people):
    long_base = D("632003.1234567890123456789012")  # what an exact phasing hands over
    lines = tuple(replace(line, base=long_base, expense_budget=D("10000.5")) if line.city_code == "310100" else line
                  for line in package.lines)
    document = build_document(replace(package, lines=lines), window, people)
    document = replace(document, final_version=4)
    text = " ".join("".join(page.extract_text() for page in PdfReader(
        io.BytesIO(render_final_pdf(document).content)).pages).split())
    assert "目标包：pkg-2024q3 基础版本：1 最终版本：4 指标：revenue" in text
    assert "上海 310100 高潜力 632,003 726,804 -26,804 700,000 10,000.50" in text
    assert "632003.12" not in text and "1234567890" not in text
    assert "合计 905,204 1,000,005 0 1,000,005 40,000.50" in text  # 华东: 632,003.12… + 109,300 + 27,300 + 136,601


def test_amounts_are_rounded_half_up_to_the_unit_with_separators():
    from negotiation_service.domain.final_document import amount, money, signed

    assert [amount(D(v)) for v in ("632003.1234567890123456789012", "1234567.5", "-0.4", "0")] == [
        "632,003", "1,234,568", "0", "0"]
    assert [signed(D(v)) for v in ("10724", "-26804", "0.2", "0")] == ["+10,724", "-26,804", "0", "0"]
    assert [money(D(v)) for v in ("10000", "10000.00", "1234.5", "0.004")] == ["10,000", "10,000", "1,234.50", "0"]
