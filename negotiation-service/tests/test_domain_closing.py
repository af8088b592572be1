from datetime import date, datetime
from decimal import Decimal as D

import pytest
from negotiation_service.domain.closing import LineChange, OffsetPolicy, expire_pending, final_version
from negotiation_service.domain.errors import ConflictError
from negotiation_service.domain.package import PackageLine, PackageSnapshot
from negotiation_service.domain.requests import AdjustmentRequest, ReasonCategory, RequestStatus

from shared.timeutil import UTC

AT = datetime(2024, 6, 2, tzinfo=UTC)


def approved(package, city, claim, request_id=None, status=RequestStatus.APPROVED):
    line = package.line(city)
    return AdjustmentRequest(request_id or f"req-{city}", "win-1", package.package_id, city, line.city_name,
                             line.region, "u_x", line.target, D(claim), ReasonCategory.OTHER, "理由", (), AT, AT,
                             status=status)


def targets(final):
    return {line.city_code: line.final_target for line in final.lines}


def test_decrease_is_offset_across_other_cities_of_region_by_weight(package):
    # 上海 asks 726,804 → 700,000 (−26,804). 杭州/宁波/苏州 absorb +26,804 by weights 10.93/2.73/13.66
    # (sum 27.32): exact shares 10,723.562… / 2,678.437… / 13,402 → floors 26,803, the leftover
    # yuan goes to the largest remainder (杭州 .562).
    final = final_version(package, [approved(package, "310100", "700000")])
    assert targets(final) == {
        "310100": D("700000"), "330100": D("120024"), "330200": D("29978"), "320500": D("150003"),
        "440100": D("500000"), "440300": D("400000"),
    }
    assert final.total == package.total == D("1900005")
    assert final.line("310100").change is LineChange.REQUESTED
    assert final.line("310100").request_id == "req-310100"
    assert final.line("330100").change is LineChange.OFFSET
    assert final.line("330100").adjustment == D("10724")
    assert final.line("440100").change is LineChange.UNCHANGED


def test_increase_is_taken_from_other_cities(package):
    # +50,000 for 上海: shares −20,003.660… / −4,996.339… / −25,000 → floors −20,004 / −4,997 /
    # −25,000 = −50,001; the one yuan back goes to the largest remainder (宁波 .660).
    final = final_version(package, [approved(package, "310100", "776804")])
    assert targets(final)["330100"] == D("89296")
    assert targets(final)["330200"] == D("22304")
    assert targets(final)["320500"] == D("111601")
    assert final.total == D("1900005")


def test_two_adjusted_cities_share_one_offset(package):
    # 上海 −26,804 and 杭州 +6,804: net −20,000 over 宁波/苏州 (2.73/13.66, sum 16.39):
    # 3,331.299… and 16,668.700… → floors 19,999, leftover to 苏州 (.700).
    final = final_version(package, [approved(package, "310100", "700000"), approved(package, "330100", "116104")])
    assert targets(final)["330200"] == D("30631")
    assert targets(final)["320500"] == D("153270")
    assert targets(final)["330100"] == D("116104")
    assert final.total == D("1900005")


def test_move_total_policy_changes_only_the_claimed_city(package):
    final = final_version(package, [approved(package, "310100", "700000")], OffsetPolicy.MOVE_TOTAL)
    assert targets(final)["330100"] == D("109300")
    assert final.total == D("1873201")
    assert final.policy is OffsetPolicy.MOVE_TOTAL


def test_non_approved_requests_are_ignored(package):
    requests = [approved(package, "310100", "700000", status=RequestStatus.REJECTED),
                approved(package, "330100", "1", status=RequestStatus.EXPIRED)]
    final = final_version(package, requests)
    assert targets(final) == {line.city_code: line.target for line in package.lines}


def small_region(targets_and_weights):
    lines = tuple(PackageLine(code, code, "西北", "stable", D(t), D(t), D(w), D(0))
                  for code, (t, w) in targets_and_weights.items())
    return PackageSnapshot("p", 1, "n", date(2024, 7, 1), date(2024, 7, 31), "revenue",
                           sum((line.target for line in lines), D(0)), lines)


def test_no_city_goes_negative_the_rest_is_spread_again():
    package = small_region({"A": ("100", "1"), "B": ("1000", "1"), "C": ("5000", "1")})
    # C +500: A and B would each give 250, A only has 100 → A = 0, B gives the other 400.
    final = final_version(package, [approved(package, "C", "5500")])
    assert targets(final) == {"A": D("0"), "B": D("600"), "C": D("5500")}
    assert final.total == D("6100")


def test_offset_that_cannot_be_absorbed_is_refused(package):
    tiny = small_region({"A": ("100", "1"), "B": ("1000", "1"), "C": ("5000", "1")})
    with pytest.raises(ConflictError) as caught:
        final_version(tiny, [approved(tiny, "C", "6101")])
    assert caught.value.code == "offset_infeasible"
    both = [approved(package, "440100", "510000"), approved(package, "440300", "380000")]
    with pytest.raises(ConflictError):
        final_version(package, both)  # 华南 has nobody left to offset −10,000
    balanced = [approved(package, "440100", "510000"), approved(package, "440300", "390000")]
    assert final_version(package, balanced).total == D("1900005")


def test_expire_pending_at_close(package):
    pending = approved(package, "310100", "700000", status=RequestStatus.PENDING_FINANCE)
    done = approved(package, "330100", "100000")
    result = expire_pending([pending, done], datetime(2024, 6, 4, 1, 0, tzinfo=UTC))
    assert [r.status for r in result] == [RequestStatus.EXPIRED, RequestStatus.APPROVED]
