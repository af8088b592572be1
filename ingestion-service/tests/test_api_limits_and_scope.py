"""Upload limits (header width, file size), the job list's order, and who may read sales totals."""

from __future__ import annotations

from datetime import datetime

from shared.clock import ReplayClock
from shared.timeutil import UTC

CITIES = """koubei_city_name,city_adcode,city,province_adcode,province,level,lng,lat,pop_2010_10k,gdp_2010_100m_cny
杭州,330100,杭州市,330000,浙江省,prefecture,120.15507,30.274085,870.04,5949.17
上海,310000,上海市,310000,上海市,municipality,121.473701,31.230416,2302.66,17165.98
广州,440100,广州市,440000,广东省,prefecture,113.264385,23.12911,1270.08,10748.28
""".encode()
OUTLETS = "shop_id,city_name,cate_1_name\n1,杭州,美食\n2,上海,美食\n3,广州,美食\n".encode()
SALES = b"day,shop_id,pay_count\n2016-07-01,1,10\n2016-07-01,2,200\n2016-07-02,3,3000\n2016-07-03,1,1\n"


def test_a_header_wider_than_2000_columns_is_refused_at_once_and_not_stored(api):
    header = "day,shop_id,pay_count," + ",".join(f"c{i}" for i in range(4997))
    response = api.upload("sales_long", (header + "\n2016-07-01,1,3\n").encode())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["detail"]) == ("too_many_columns",
                                              "the header has 5000 columns; at most 2000 are accepted")
    assert api.get("/imports").json() == []
    raw = api.host.services["ingestion"].context.data_dir / "raw"
    assert not raw.exists() or list(raw.rglob("*")) == []  # the bytes were not even kept

    wide = "day,shop_id,pay_count," + ",".join(f"c{i}" for i in range(1997))  # exactly 2000
    assert api.upload("sales_long", (wide + "\n2016-07-01,1,3\n").encode()).status_code == 202


def test_uploads_over_the_configured_size_are_413(api_factory, monkeypatch):
    monkeypatch.setenv("INGESTION_MAX_UPLOAD_BYTES", "100000")
    api = api_factory()
    big = CITIES + b"#" * 2_000_000  # refused from Content-Length, before the body is parsed
    refused = api.upload("cities", big)
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["detail"], refused.json()["max_bytes"]) == (
        "file_too_large", "the file is larger than 100000 bytes", 100000)
    just_over = CITIES + b"\n" * (100_001 - len(CITIES))  # inside the multipart slack: refused on its size
    assert len(just_over) == 100_001
    over = api.upload("cities", just_over)
    assert (over.status_code, over.json()["code"]) == (413, "file_too_large")
    at_limit = api.upload("cities", CITIES + b"\n" * (100_000 - len(CITIES)))
    assert at_limit.status_code == 202

    def chunked():  # no Content-Length: refused once the streamed bytes pass the limit
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n\r\n' + CITIES
        for _ in range(40):
            yield b"#" * 10_000
        yield b"\r\n--b--\r\n"

    streamed = api.client.post("/api/v1/ingestion/imports", params={"kind": "cities"}, content=chunked(),
                               headers={**api.headers, "Content-Type": "multipart/form-data; boundary=b"})
    assert (streamed.status_code, streamed.json()["code"]) == (413, "file_too_large")


def test_jobs_are_listed_newest_first_even_when_submitted_at_the_same_instant(api_factory):
    api = api_factory(clock=ReplayClock(datetime(2024, 6, 1, 1, 0, tzinfo=UTC)))
    ids = [api.upload("cities", CITIES + f"# {n}\n".encode()).json()["id"] for n in range(3)]
    listed = api.get("/imports", params={"limit": 2}).json()
    assert [job["id"] for job in listed] == [ids[2], ids[1]]
    assert [job["id"] for job in api.get("/imports").json()] == [ids[2], ids[1], ids[0]]


def _loaded(api):
    for kind, data in (("cities", CITIES), ("outlets", OUTLETS), ("sales_long", SALES)):
        job = api.import_and_wait(kind, data)
        assert (job["status"], job["rejected"]) == ("succeeded", 0), job
    return api


def _total(api, headers, **params):
    return api.get("/sales/total", params={"start": "2016-07-01", "end": "2016-07-31", **params}, headers=headers)


def _token(api, roles, regions=(), cities=()):
    token = api.host.authenticator.mint("u_test", roles, regions=regions, cities=cities)
    return {"Authorization": f"Bearer {token}"}


def test_sales_totals_stay_within_the_callers_scope(api):
    _loaded(api)
    hangzhou_manager = _token(api, ["city_manager"], cities=["330100"])
    own = _total(api, hangzhou_manager, city_code="330100")
    assert (own.status_code, own.json()["orders"], own.json()["facts"]) == (200, 11, 2)
    other = _total(api, hangzhou_manager, city_code="310000")
    assert other.status_code == 403
    assert (other.json()["code"], other.json()["detail"]) == ("out_of_scope", "city 310000 is outside your scope")
    national = _total(api, hangzhou_manager)
    assert (national.status_code, national.json()["code"]) == (403, "out_of_scope")
    assert _total(api, _token(api, ["city_manager"]), city_code="330100").status_code == 403  # no cities at all

    east = _token(api, ["region_director"], regions=["华东"])
    assert _total(api, east, city_code="310000").json()["orders"] == 200
    assert _total(api, east, city_code="440100").status_code == 403
    assert _total(api, east, city_code="999999").status_code == 403  # a city ingestion does not know
    assert _total(api, east).json() == {"city_code": None, "start": "2016-07-01", "end": "2016-07-31",
                                        "regions": ["华东"], "orders": 211, "facts": 3}

    for role in ("hq_planner", "finance", "admin"):
        everyone = _token(api, [role])
        assert _total(api, everyone).json() == {"city_code": None, "start": "2016-07-01", "end": "2016-07-31",
                                                "regions": None, "orders": 3211, "facts": 4}
        assert _total(api, everyone, city_code="440100").json()["orders"] == 3000


def test_a_sales_total_over_a_reversed_period_is_422(api):
    response = api.get("/sales/total", params={"start": "2016-07-31", "end": "2016-07-01"})
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["detail"]) == (
        "invalid_period", "start 2016-07-31 is after end 2016-07-01")
