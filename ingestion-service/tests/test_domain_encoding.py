import pytest
from ingestion_service.domain.encoding import decode_text
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.tables import read_csv


def test_c05_utf8_bom_does_not_leak_into_the_first_header():
    data = b"\xef\xbb\xbf" + "城市,去年销售额\r\n北京,100\r\n".encode()
    table = read_csv(data)
    assert table.encoding == "utf-8-sig"
    assert table.columns == ["城市", "去年销售额"]
    assert [(r.row, r.values) for r in table.records] == [(2, ("北京", "100"))]


def test_c06a_gb18030_character_outside_gbk_survives():
    data = "门店,去年销售额\n㒲记,1000\n".encode("gb18030")
    assert b"\x82\x30\x82\x35" in data
    table = read_csv(data)
    assert table.encoding == "gb18030"
    assert table.records[0].values == ("㒲记", "1000")
    assert "\ufffd" not in table.records[0].values[0]


def test_c06b_gbk_file_is_read_not_rejected():
    data = "城市,去年销售额\n北京,1000\n".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = read_csv(data)
    assert table.columns == ["城市", "去年销售额"]
    assert table.records[0].values == ("北京", "1000")


def test_plain_utf8_is_utf8():
    assert decode_text("杭州,1\n".encode()).encoding == "utf-8"


def test_a_file_in_no_supported_encoding_is_a_whole_file_problem():
    # 0x80 is a lone continuation byte in UTF-8 and not a valid GB18030 lead byte.
    with pytest.raises(FileProblem) as caught:
        decode_text(b"city,value\n\x80\x80,1\n")
    assert caught.value.code == "undecodable"
    assert "0x80" in caught.value.detail


def test_utf16_and_binary_files_say_why():
    with pytest.raises(FileProblem) as utf16:
        decode_text("城市".encode("utf-16"))
    assert utf16.value.code == "unsupported_encoding"
    with pytest.raises(FileProblem) as binary:
        decode_text(b"abc\x00def")
    assert binary.value.code == "binary_file"
