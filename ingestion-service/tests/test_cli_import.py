from ingestion_service.cli import import_file
from rich.console import Console

CITIES = "city_adcode,city,province\n330100,杭州市,浙江省\n330200,宁波市,浙江省\n999,火星,火星省\n".encode()


def test_import_file_uploads_follows_the_job_and_summarises(api, tmp_path):
    path = tmp_path / "cities.csv"
    path.write_bytes(CITIES)
    console = Console(record=True, width=120)
    code = import_file(path, "cities", token=api.headers["Authorization"][7:], client=api.client, console=console,
                       poll_seconds=0.01)
    output = console.export_text()
    assert code == 0
    assert "Imported cities: accepted 2, unchanged 0, rejected 1" in output
    assert "/api/v1/ingestion/imports/" in output and "errors.csv" in output


def test_import_file_reports_a_refused_upload(api, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"shop_id,not_a_day\n1,2\n")
    console = Console(record=True, width=200)
    code = import_file(path, "sales_wide", token=api.headers["Authorization"][7:], client=api.client, console=console)
    assert code == 1
    assert "Upload refused (422 not_a_date_column)" in console.export_text()


def test_import_file_missing_file(tmp_path):
    console = Console(record=True)
    assert import_file(tmp_path / "nope.csv", "cities", console=console) == 1
    assert "No such file" in console.export_text()
