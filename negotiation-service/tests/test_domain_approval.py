from datetime import datetime
from decimal import Decimal as D

import pytest
from negotiation_service.domain.approval import decide
from negotiation_service.domain.errors import ConflictError, ForbiddenError, RuleViolation
from negotiation_service.domain.requests import Claim, RequestStatus, Slot, Verdict, file_request

from shared.timeutil import SHANGHAI, UTC

FILED = datetime(2024, 6, 2, 10, 0, tzinfo=SHANGHAI)
T1 = datetime(2024, 6, 2, 15, 0, tzinfo=SHANGHAI)
T2 = datetime(2024, 6, 3, 9, 30, tzinfo=SHANGHAI)


@pytest.fixture
def request_(window, package, people):
    return file_request("req-1", window, package, people["sh_manager"],
                        Claim("310100", D("700000"), "new_store", "新店开业延期到九月"), FILED)


def test_director_then_finance_approves(request_, window, people):
    half = decide(request_, window, people["east_director"], "approve", T1, "同意")
    assert half.status is RequestStatus.PENDING_FINANCE
    assert half.director.actor_id == "u_zhang" and half.director.at == datetime(2024, 6, 2, 7, 0, tzinfo=UTC)
    assert half.director.comment == "同意"
    assert half.decided_at is None and half.version == 2
    done = decide(half, window, people["finance"], Verdict.APPROVE, T2, "预算可承受")
    assert done.status is RequestStatus.APPROVED
    assert done.finance.slot is Slot.FINANCE
    assert done.decided_at == datetime(2024, 6, 3, 1, 30, tzinfo=UTC)
    assert done.version == 3


def test_finance_first_then_director(request_, window, people):
    half = decide(request_, window, people["finance"], "approve", T1)
    assert half.status is RequestStatus.PENDING_DIRECTOR
    done = decide(half, window, people["east_director"], "approve", T2)
    assert done.status is RequestStatus.APPROVED


def test_either_rejection_rejects(request_, window, people):
    rejected = decide(request_, window, people["finance"], "reject", T1, "证据不足")
    assert rejected.status is RequestStatus.REJECTED and rejected.decided_at == T1.astimezone(UTC)
    half = decide(request_, window, people["finance"], "approve", T1)
    rejected_later = decide(half, window, people["east_director"], "reject", T2, "与区域计划冲突")
    assert rejected_later.status is RequestStatus.REJECTED
    assert rejected_later.finance.verdict is Verdict.APPROVE
    assert rejected_later.director.verdict is Verdict.REJECT
    with pytest.raises(ConflictError) as caught:
        decide(rejected_later, window, people["finance"], "approve", T2)
    assert caught.value.code == "request_not_pending"


def test_rejection_needs_a_comment(request_, window, people):
    with pytest.raises(RuleViolation) as caught:
        decide(request_, window, people["finance"], "reject", T1, "  ")
    assert caught.value.code == "comment_required"


def test_c14a_self_approval_forbidden(window, package, people):
    own = file_request("req-2", window, package, people["east_director"],
                       Claim("330200", D("20000"), "weather", "台风季"), FILED)
    with pytest.raises(ForbiddenError) as caught:
        decide(own, window, people["east_director"], "approve", T1, slot="director")
    assert caught.value.code == "self_approval_forbidden"


def test_c14b_same_approver_cannot_fill_both_slots(request_, window, people):
    u_li = people["both_roles"]
    first = decide(request_, window, u_li, "approve", T1, slot=Slot.DIRECTOR)
    assert first.status is RequestStatus.PENDING_FINANCE
    with pytest.raises(ForbiddenError) as caught:
        decide(first, window, u_li, "approve", T2, slot=Slot.FINANCE)
    assert caught.value.code == "same_approver_both_slots"
    assert first.status is RequestStatus.PENDING_FINANCE
    with pytest.raises(ForbiddenError) as inferred:
        decide(first, window, u_li, "approve", T2)
    assert inferred.value.code == "same_approver_both_slots"
    with pytest.raises(RuleViolation) as ambiguous:
        decide(request_, window, u_li, "approve", T1)
    assert ambiguous.value.code == "slot_required"


def test_wrong_region_director_and_plain_manager_are_not_approvers(request_, window, people):
    for who in (people["south_director"], people["hz_manager"]):
        with pytest.raises(ForbiddenError) as caught:
            decide(request_, window, who, "approve", T1)
        assert caught.value.code == "not_an_approver"
    with pytest.raises(ForbiddenError):
        decide(request_, window, people["finance"], "approve", T1, slot="director")


def test_slot_already_decided_and_stale_version_are_conflicts(request_, window, people):
    from negotiation_service.domain.actors import actor
    half = decide(request_, window, people["finance"], "approve", T1)
    other_finance = actor("u_qian", "finance")
    with pytest.raises(ConflictError) as caught:
        decide(half, window, other_finance, "approve", T2)
    assert caught.value.code == "slot_already_decided"
    with pytest.raises(ConflictError) as stale:
        decide(half, window, people["east_director"], "approve", T2, expected_version=1)
    assert stale.value.code == "stale_version"


def test_c13_decision_boundary(request_, window, people):
    just_before = datetime(2024, 6, 4, 8, 59, 59, 999999, tzinfo=SHANGHAI)
    assert decide(request_, window, people["finance"], "approve", just_before).status is RequestStatus.PENDING_DIRECTOR
    with pytest.raises(ConflictError) as caught:
        decide(request_, window, people["finance"], "approve", datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI))
    assert caught.value.code == "window_closed"
    with pytest.raises(RuleViolation) as naive:
        decide(request_, window, people["finance"], "approve", datetime(2024, 6, 4, 8, 0))
    assert naive.value.code == "naive_datetime"
