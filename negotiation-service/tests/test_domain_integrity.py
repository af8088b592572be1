from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest
from negotiation_service.domain.actors import ADMIN, HQ_PLANNER, actor
from negotiation_service.domain.errors import ConflictError, ForbiddenError, RuleViolation
from negotiation_service.domain.integrity import (
    active_restriction,
    bind_to_window,
    deviation,
    earns_restriction,
    lift,
    may_view_record,
    restriction_for,
    score,
)
from negotiation_service.domain.requests import AdjustmentRequest, ReasonCategory, RequestStatus
from negotiation_service.domain.window import open_window

from shared.timeutil import SHANGHAI, UTC

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def request(request_id, claim, filed_at=T0, user="u_wang", status=RequestStatus.APPROVED):
    return AdjustmentRequest(request_id, "win-1", "pkg", "310100", "上海", "华东", user, D("726804"), D(claim),
                             ReasonCategory.OTHER, "理由", (), filed_at, filed_at, status=status)


def test_deviation_exact_values():
    assert deviation(D("700000"), D("420000")) == D("0.4")
    assert deviation(D("700000"), D("980000")) == D("0.4")
    assert deviation(D("700000"), D("979999")) == D("279999") / D("700000")
    assert deviation(D("100"), D("141")) == D("0.41")
    with pytest.raises(RuleViolation):
        deviation(D("0"), D("5"))


def test_flag_is_strictly_above_forty_percent():
    at = datetime(2024, 10, 1, tzinfo=UTC)
    exactly = score(request("r1", "700000"), D("420000"), at)
    assert exactly.deviation == D("0.4") and exactly.flagged is False
    above = score(request("r2", "700000"), D("419999"), at)
    assert above.flagged is True
    assert above.deviation_shown == D("0.4000")  # 280001/700000 = 0.400001428…
    far = score(request("r3", "100"), D("141"), at)
    assert far.flagged is True and far.deviation_shown == D("0.4100")
    with pytest.raises(ConflictError):
        score(request("r4", "100", status=RequestStatus.REJECTED), D("1"), at)


def scored(request_id, flagged, scored_at, user="u_wang"):
    actual = "50" if flagged else "100"
    return score(request(request_id, "100", user=user), D(actual), scored_at)


def test_two_most_recent_flags_restrict():
    jul, aug, sep = (datetime(2024, m, 5, tzinfo=UTC) for m in (8, 9, 10))
    assert earns_restriction([scored("a", True, jul)]) is False
    assert earns_restriction([scored("a", True, jul), scored("b", True, aug)]) is True
    assert earns_restriction([scored("a", True, jul), scored("b", True, aug), scored("c", False, sep)]) is False
    assert earns_restriction([scored("a", False, jul), scored("b", True, aug), scored("c", True, sep)]) is True
    assert earns_restriction([scored("a", True, jul), scored("b", False, aug), scored("c", True, sep)]) is False


def test_restriction_covers_the_next_window_only_and_says_until_when():
    scored_at = datetime(2024, 10, 2, tzinfo=UTC)
    history = [scored("a", True, scored_at - timedelta(days=30)), scored("b", True, scored_at),
               scored("z", False, scored_at, user="u_other")]
    assert restriction_for("u_other", history, "x", scored_at) is None
    restriction = restriction_for("u_wang", history, "res-1", scored_at)
    assert restriction.user_id == "u_wang" and restriction.until is None
    assert "上海" in restriction.reason and "50.00%" in restriction.reason

    current = open_window("w-old", "p", 1, scored_at - timedelta(days=1))
    nxt = open_window("w-next", "p2", 1, datetime(2024, 10, 8, 9, 0, tzinfo=SHANGHAI))
    sibling = open_window("w-sib", "p3", 1, datetime(2024, 10, 8, 10, 0, tzinfo=SHANGHAI))
    after = open_window("w-after", "p4", 1, datetime(2024, 11, 8, 9, 0, tzinfo=SHANGHAI))
    assert restriction.covers(current) is False
    bound = bind_to_window(restriction, nxt)
    assert bound.until == datetime(2024, 10, 11, 1, 0, tzinfo=UTC)
    assert bind_to_window(bound, after).until == bound.until
    assert bound.message() == f"view-only until 2024-10-11T09:00:00+08:00: {restriction.reason}"
    assert active_restriction([bound], "u_wang", nxt) is bound
    assert active_restriction([bound], "u_wang", sibling) is bound
    assert active_restriction([bound], "u_wang", after) is None
    assert active_restriction([bound], "u_other", nxt) is None


def test_admin_lifts_with_reason():
    restriction = restriction_for("u_wang", [scored("a", True, T0), scored("b", True, T0 + timedelta(days=1))],
                                  "res-1", T0 + timedelta(days=1))
    at = datetime(2024, 6, 5, 10, 0, tzinfo=SHANGHAI)
    with pytest.raises(ForbiddenError):
        lift(restriction, actor("u_hq", HQ_PLANNER), "误判", at)
    with pytest.raises(RuleViolation):
        lift(restriction, actor("u_admin", ADMIN), " ", at)
    lifted = lift(restriction, actor("u_admin", ADMIN), "实际值含退货，数据有误", at)
    assert lifted.lifted_by == "u_admin" and lifted.lift_reason == "实际值含退货，数据有误"
    assert lifted.lifted_at == datetime(2024, 6, 5, 2, 0, tzinfo=UTC)
    window = open_window("w", "p", 1, datetime(2024, 6, 10, tzinfo=UTC))
    assert active_restriction([lifted], "u_wang", window) is None
    with pytest.raises(ConflictError):
        lift(lifted, actor("u_admin", ADMIN), "again", at)


def test_record_visibility():
    record = scored("a", True, T0)
    assert may_view_record(actor("u_wang", "city_manager", cities=("310100",)), record) is True
    assert may_view_record(actor("u_chen", "city_manager", cities=("330100",)), record) is False
    assert may_view_record(actor("u_zhang", "region_director", regions=("华东",)), record) is True
    assert may_view_record(actor("u_liu", "region_director", regions=("华南",)), record) is False
    assert may_view_record(actor("u_hq", HQ_PLANNER), record) is True
