from decimal import Decimal

import pytest
from ingestion_service.config import load_historical_names, load_region_map
from ingestion_service.domain.cities import City, CityDirectory, RegionMap


def _city(code, name, province, region="华东"):
    return City(code, name, province, region)


@pytest.fixture(scope="module")
def directory():
    cities = [
        _city("330100", "杭州市", "浙江省"),
        _city("530800", "普洱市", "云南省", "西南"),
        _city("420600", "襄阳市", "湖北省", "华中"),
        _city("422800", "恩施土家族苗族自治州", "湖北省", "华中"),
        _city("632500", "海南藏族自治州", "青海省", "西北"),
        _city("460100", "海口市", "海南省", "华南"),
        _city("220200", "吉林市", "吉林省", "东北"),
        City("310000", "上海市", "上海市", "华东", aliases=("沪",)),
    ]
    return CityDirectory(cities, load_historical_names())


def test_default_region_map_is_the_seven_region_convention():
    regions = load_region_map()
    assert regions.regions == ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
    assert regions.region_of("浙江省") == "华东"
    assert regions.region_of("浙江") == "华东"
    assert regions.region_of("广西壮族自治区") == "华南"
    assert regions.region_of("广西") == "华南"
    assert regions.region_of("内蒙古") == "华北"
    assert regions.region_of("黑龙江省") == "东北"
    assert regions.region_of("火星") is None


def test_the_region_map_can_be_overridden_by_yaml_or_csv(tmp_path):
    yaml_path = tmp_path / "regions.yaml"
    yaml_path.write_text("regions:\n  East China: [浙江省, 上海市]\n  South China: [广东省]\n", encoding="utf-8")
    assert load_region_map(yaml_path).region_of("浙江") == "East China"
    assert load_region_map(yaml_path).region_of("北京市") is None
    csv_path = tmp_path / "regions.csv"
    csv_path.write_text("province,region_7\n广东省,South\n", encoding="utf-8-sig")
    assert load_region_map(csv_path).region_of("广东省") == "South"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("杭州", "330100"), ("杭州市", "330100"), (" 杭州 ", "330100"), ("330100", "330100"),
        ("思茅", "530800"), ("思茅市", "530800"), ("襄樊", "420600"), ("沪", "310000"),
        ("恩施", "422800"), ("吉林", "220200"), ("海南藏族自治州", "632500"),
    ],
)
def test_names_aliases_and_historical_names_resolve_to_an_adcode(directory, name, code):
    assert directory.resolve(name).city.code == code


@pytest.mark.parametrize(
    ("name", "reason"),
    [("火星", "unknown city 火星"), ("999999", "unknown city code 999999"), ("", "no city given"),
     ("海南", "unknown city 海南")],
)
def test_unknown_names_come_back_with_a_reason(directory, name, reason):
    match = directory.resolve(name)
    assert match.city is None
    assert match.reason == reason


def test_historical_names_whose_city_is_not_loaded_are_ignored():
    directory = CityDirectory([_city("330100", "杭州市", "浙江省")], {"思茅": "普洱市"})
    assert directory.resolve("思茅").city is None


def test_region_map_from_mapping():
    regions = RegionMap({"广东省": "South China"})
    assert regions.region_of("广东") == "South China"
    assert City("440100", "广州市", "广东省", "South China", lng=Decimal("113.2")).key == ("440100",)
