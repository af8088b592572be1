import csv
import io

CITIES = """koubei_city_name,city_adcode,city,province_adcode,province,level,lng,lat,pop_2010_10k,gdp_2010_100m_cny
思茅,530800,普洱市,530000,云南省,prefecture,100.966512,22.825065,254.29,301.1
杭州,330100,杭州市,330000,浙江省,prefecture,120.15507,30.274085,870.04,5949.17
""".encode()
OUTLETS = """shop_id,city_name,cate_1_name,cate_2_name
1,杭州,美食,休闲茶饮
2,思茅,超市便利店,超市
3,火星,美食,
""".encode()
WIDE = (b"shop_id,2016-07-01,2016-07-02\n"
        b"1,12,\n"
        b"2,3,\"1,204\"\n"
        b"3,5,5\n\n\n")


def test_upload_import_report_and_reimport(api):
    cities = api.import_and_wait("cities", CITIES)
    assert (cities["status"], cities["accepted"], cities["rejected"]) == ("succeeded", 2, 0)
    outlets = api.import_and_wait("outlets", OUTLETS)
    assert (outlets["accepted"], outlets["rejected"], outlets["unchanged"]) == (2, 1, 0)

    sales = api.import_and_wait("sales_wide", WIDE, "daily.csv")
    assert (sales["status"], sales["accepted"], sales["rejected"], sales["unchanged"]) == ("succeeded", 3, 1, 0)
    assert sales["progress_percent"] == 100
    assert sales["encoding"] == "utf-8"

    report = api.get(f"/imports/{sales['id']}/errors.csv")
    assert report.status_code == 200
    assert report.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows == [["row", "column", "value", "code", "reason"],
                    ["4", "shop_id", "3", "unknown_outlet", "unknown outlet 3: import the outlets first"]]

    recorded = api.outbox_events("ingestion.daily_sales_recorded")
    assert [(e["key"], e["data"]["city_name"], e["data"]["region"]) for e in recorded] == [
        ("330100", "杭州市", "华东"), ("530800", "普洱市", "西南")]
    assert recorded[1]["data"]["sales"] == [
        {"day": "2016-07-01", "outlet_id": "2", "channel": "超市便利店", "orders": 3, "revenue": None,
         "units": None, "revision": 1},
        {"day": "2016-07-02", "outlet_id": "2", "channel": "超市便利店", "orders": 1204, "revenue": None,
         "units": None, "revision": 1},
    ]
    total = api.get("/sales/total", params={"start": "2016-07-01", "end": "2016-07-31"})
    assert total.json() == {"city_code": None, "start": "2016-07-01", "end": "2016-07-31", "regions": None,
                            "orders": 1219, "facts": 3}

    again = api.import_and_wait("sales_wide", WIDE, "daily.csv")
    assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 3, 1)
    assert again["sha256"] == sales["sha256"]
    assert len(api.outbox_events("ingestion.daily_sales_recorded")) == 2

    corrected = api.import_and_wait("sales_wide", b"shop_id,2016-07-02\n2,1205\n")
    assert (corrected["accepted"], corrected["unchanged"]) == (1, 0)
    correction = api.outbox_events("ingestion.daily_sales_recorded")[-1]["data"]
    assert correction["sales"] == [{"day": "2016-07-02", "outlet_id": "2", "channel": "超市便利店", "orders": 1205,
                                    "revenue": None, "units": None, "revision": 2}]
    completed = api.outbox_events("ingestion.import_completed")
    assert [(e["data"]["kind"], e["data"]["accepted"], e["data"]["rejected"], e["data"]["unchanged"])
            for e in completed] == [("cities", 2, 0, 0), ("outlets", 2, 1, 0), ("sales_wide", 3, 1, 0),
                                   ("sales_wide", 0, 1, 3), ("sales_wide", 1, 0, 0)]


def test_raw_uploads_are_kept_by_content_address(api):
    job = api.import_and_wait("cities", CITIES)
    stored = api.host.services["ingestion"].context.data_dir / "raw" / job["sha256"][:2] / job["sha256"]
    assert stored.read_bytes() == CITIES


def test_a_whole_file_problem_is_one_clear_problem_response(api):
    response = api.upload("sales_wide", b"shop_id,2016-07-01,total\n1,2,2\n")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not_a_date_column"
    assert body["detail"] == ("in the wide layout every column after the outlet id is a date; not dates: total")
    undecodable = api.upload("cities", b"code,name\n\x80\x80,1\n")
    assert (undecodable.status_code, undecodable.json()["code"]) == (422, "undecodable")
    unknown = api.upload("recipes", CITIES)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_kind")


def test_gb18030_upload_and_region_of_every_city(api):
    job = api.import_and_wait("cities", CITIES.decode().encode("gb18030"))
    assert (job["encoding"], job["accepted"]) == ("gb18030", 2)
    cities = api.get("/cities").json()
    assert [(c["code"], c["name"], c["region"], c["aliases"], c["lng"]) for c in cities] == [
        ("330100", "杭州市", "华东", ["杭州"], "120.15507"), ("530800", "普洱市", "西南", ["思茅"], "100.966512")]


def test_uploading_needs_a_planner_and_reading_needs_a_principal(api):
    city_manager = api.auth("city_manager")
    forbidden = api.upload("cities", CITIES, headers=city_manager)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "role_required")
    anonymous = api.client.get("/api/v1/ingestion/imports")
    assert anonymous.status_code == 401
    missing = api.get("/imports/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "import_job_not_found")
