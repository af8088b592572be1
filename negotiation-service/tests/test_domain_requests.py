from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D

import pytest
from negotiation_service.domain.errors import ConflictError, ForbiddenError, NotFoundError, RuleViolation
from negotiation_service.domain.requests import (
    Claim,
    Decision,
    ReasonCategory,
    RequestStatus,
    Slot,
    Verdict,
    amend_request,
    decision_action,
    expire_request,
    file_request,
)

from shared.timeutil import SHANGHAI, UTC

AT = datetime(2024, 6, 2, 10, 30, tzinfo=SHANGHAI)
REASON = "新开两家门店，但地铁施工导致客流下降约两成"


def file(window, package, who, city="310100", claim="700000", existing=(), restriction=None, at=AT, **kw):
    return file_request("req-1", window, package, who,
                        Claim(city, D(claim), kw.pop("category", "competitor"), kw.pop("reason", REASON),
                              kw.pop("evidence", ("evidence/metro.pdf",))),
                        at, existing, restriction)


def test_city_manager_files_for_own_city(window, package, people):
    request = file(window, package, people["sh_manager"])
    assert request.status is RequestStatus.PENDING
    assert request.city_name == "上海" and request.region == "华东"
    assert request.current_target == D("726804")
    assert request.claim == D("700000")
    assert request.change == D("-26804")
    assert request.category is ReasonCategory.COMPETITOR
    assert request.reason == REASON
    assert request.evidence == ("evidence/metro.pdf",)
    assert request.filed_at == datetime(2024, 6, 2, 2, 30, tzinfo=UTC)
    assert request.requester_id == "u_wang"
    assert request.version == 1


def test_scope_city_manager_other_city_and_director_other_region(window, package, people):
    with pytest.raises(ForbiddenError) as caught:
        file(window, package, people["sh_manager"], city="330100")
    assert caught.value.code == "out_of_scope"
    with pytest.raises(ForbiddenError):
        file(window, package, people["south_director"], city="310100")
    with pytest.raises(ForbiddenError):
        file(window, package, people["finance"], city="310100")
    director_request = file(window, package, people["east_director"], city="330200", claim="20000")
    assert director_request.region == "华东"


def test_unknown_city(window, package, people):
    with pytest.raises(NotFoundError) as caught:
        file(window, package, people["sh_manager"], city="999999")
    assert caught.value.code == "unknown_city"


def test_one_open_request_per_city_then_amend(window, package, people):
    first = file(window, package, people["sh_manager"])
    with pytest.raises(ConflictError) as caught:
        file(window, package, people["east_director"], existing=(first,))
    assert caught.value.code == "open_request_exists"
    assert caught.value.details["request_id"] == "req-1"
    rejected = replace(first, status=RequestStatus.REJECTED)
    again = file(window, package, people["east_director"], existing=(rejected,))
    assert again.status is RequestStatus.PENDING
    approved = replace(first, status=RequestStatus.APPROVED)
    with pytest.raises(ConflictError) as caught:
        file(window, package, people["sh_manager"], existing=(approved,))
    assert caught.value.code == "request_already_approved"


def test_amend_clears_partial_approval(window, package, people):
    request = file(window, package, people["sh_manager"])
    half = replace(request, status=RequestStatus.PENDING_FINANCE, version=2,
                   director=Decision(Slot.DIRECTOR, "u_zhang", Verdict.APPROVE, AT, "同意"))
    later = datetime(2024, 6, 3, 11, 0, tzinfo=SHANGHAI)
    amended = amend_request(half, window, people["sh_manager"], later, claim=D("710000"), reason="修正：只有一家门店")
    assert amended.claim == D("710000")
    assert amended.reason == "修正：只有一家门店"
    assert amended.category is ReasonCategory.COMPETITOR
    assert amended.status is RequestStatus.PENDING
    assert amended.director is None
    assert amended.version == 3
    assert amended.updated_at == datetime(2024, 6, 3, 3, 0, tzinfo=UTC)
    with pytest.raises(ForbiddenError) as caught:
        amend_request(half, window, people["east_director"], later, claim=D("1"))
    assert caught.value.code == "not_requester"
    with pytest.raises(ConflictError) as caught:
        amend_request(replace(request, status=RequestStatus.APPROVED), window, people["sh_manager"], later)
    assert caught.value.code == "request_not_pending"


def test_filing_or_amending_at_the_closing_instant_is_refused(window, package, people):
    closing = datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI)
    with pytest.raises(ConflictError) as caught:
        file(window, package, people["sh_manager"], at=closing)
    assert caught.value.code == "window_closed"
    request = file(window, package, people["sh_manager"], at=datetime(2024, 6, 4, 8, 59, 59, 999999, tzinfo=SHANGHAI))
    with pytest.raises(ConflictError):
        amend_request(request, window, people["sh_manager"], closing, claim=D("1"))


def test_restricted_user_gets_403_with_reason(window, package, people):
    message = "view-only until 2024-06-04T09:00:00+08:00: two flagged claims"
    with pytest.raises(ForbiddenError) as caught:
        file(window, package, people["sh_manager"], restriction=message)
    assert caught.value.code == "requester_restricted"
    assert str(caught.value) == message


@pytest.mark.parametrize("claim, code", [("0", "claim_not_positive"), ("-5", "claim_not_positive"),
                                         ("700000.5", "claim_not_whole"), ("1e309", "claim_too_large"),
                                         ("1e30", "claim_too_large"), ("1000000000000000", "claim_too_large"),
                                         ("NaN", "invalid_claim")])
def test_claim_validation(window, package, people, claim, code):
    with pytest.raises(RuleViolation) as caught:
        file(window, package, people["sh_manager"], claim=claim)
    assert caught.value.code == code


def test_reason_validation(window, package, people):
    with pytest.raises(RuleViolation) as caught:
        file(window, package, people["sh_manager"], category="luck")
    assert caught.value.code == "invalid_category"
    with pytest.raises(RuleViolation) as caught:
        file(window, package, people["sh_manager"], reason="   ")
    assert caught.value.code == "reason_required"
    with pytest.raises(RuleViolation) as caught:
        file(window, package, people["sh_manager"], evidence=("",))
    assert caught.value.code == "invalid_evidence"


def test_naive_time_refused(window, package, people):
    with pytest.raises(RuleViolation) as caught:
        file(window, package, people["sh_manager"], at=datetime(2024, 6, 2, 10, 30))
    assert caught.value.code == "naive_datetime"


def test_expire_only_open_requests(window, package, people):
    request = file(window, package, people["sh_manager"])
    at = datetime(2024, 6, 4, 1, 0, tzinfo=UTC)
    expired = expire_request(request, at)
    assert expired.status is RequestStatus.EXPIRED and expired.decided_at == at and expired.version == 2
    approved = replace(request, status=RequestStatus.APPROVED)
    assert expire_request(approved, at) is approved


def test_decisions_are_named_in_the_past_tense():
    assert [decision_action(verdict, slot) for verdict in Verdict for slot in Slot] == [
        "request.approved_as_director", "request.approved_as_finance",
        "request.rejected_as_director", "request.rejected_as_finance"]
