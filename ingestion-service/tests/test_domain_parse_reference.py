from decimal import Decimal

from ingestion_service.domain.cities import CityDirectory
from ingestion_service.domain.parse_reference import parse_cities, parse_outlets
from ingestion_service.domain.problems import RowError
from ingestion_service.domain.tables import read_table

CITIES = """koubei_city_name,city_adcode,city,province_adcode,province,level,lng,lat,pop_2010_10k,gdp_2010_100m_cny
思茅,530800,普洱市,530000,云南省,prefecture,100.966512,22.825065,254.29,301.1
杭州,330100,杭州市,330000,浙江省,prefecture,120.15507,30.274085,870.04,5949.17
火星,99,火星市,990000,火星省,prefecture,,,,
"""


def test_cities_take_their_region_from_the_map_and_keep_the_export_alias(regions):
    parsed = parse_cities(read_table(CITIES.encode()), regions)
    cities = [city for _, city in parsed.facts]
    assert [(c.code, c.name, c.province, c.region, c.aliases) for c in cities] == [
        ("530800", "普洱市", "云南省", "西南", ("思茅",)),
        ("330100", "杭州市", "浙江省", "华东", ("杭州",)),
    ]
    assert cities[1].lng == Decimal("120.15507")
    assert cities[1].gdp_100m_cny == Decimal("5949.17")
    assert parsed.errors == [
        RowError(4, "city_adcode", "99", "invalid_city_code", "a city code is a 6-digit adcode, not '99'"),
        RowError(4, "province", "火星省", "unknown_province", "no region is configured for province 火星省"),
    ]


def test_gdp_growth_as_percent_or_fraction(regions):
    data = "code,name,province,gdp_growth\n330100,杭州市,浙江省,8.5%\n330200,宁波市,浙江省,0.07\n".encode()
    parsed = parse_cities(read_table(data), regions)
    assert [c.gdp_growth for _, c in parsed.facts] == [Decimal("0.085"), Decimal("0.07")]


OUTLETS = """shop_id,city_name,location_id,per_pay,score,comment_cnt,shop_level,cate_1_name,cate_2_name,cate_3_name
1,杭州,885,8,4.0,12.0,2,美食,休闲茶饮,饮品/甜点
2,思茅,64,19,,,1,超市便利店,超市,
3,火星,1,1,,,0,美食,,
4,宁波,2,3,,,0,,,
"""


def test_outlets_resolve_cities_and_keep_other_columns_as_attributes(small_directory: CityDirectory):
    parsed = parse_outlets(read_table(OUTLETS.encode()), small_directory)
    outlets = [o for _, o in parsed.facts]
    assert [(o.outlet_id, o.city_code, o.channel) for o in outlets] == [("1", "330100", "美食"), ("2", "530800", "超市便利店")]
    assert dict(outlets[0].attributes) == {
        "location_id": "885", "per_pay": "8", "score": "4.0", "comment_cnt": "12.0", "shop_level": "2",
        "cate_2_name": "休闲茶饮", "cate_3_name": "饮品/甜点",
    }
    assert dict(outlets[1].attributes) == {"location_id": "64", "per_pay": "19", "shop_level": "1", "cate_2_name": "超市"}
    assert parsed.errors == [
        RowError(4, "city_name", "火星", "unknown_city", "unknown city 火星"),
        RowError(5, "cate_1_name", "", "missing_value", "cate_1_name is required"),
    ]
    assert parsed.rows_read == 4
