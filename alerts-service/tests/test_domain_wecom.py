"""WeCom robot messages: byte-exact splitting, digest, rate limit, response classes, backoff."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from alerts_service.domain.delivery_policy import (
    PERMANENT,
    RETRY,
    SUCCESS,
    RetryPolicy,
    RobotRateLimiter,
    SendPlan,
    classify_response,
    classify_webhook_response,
    plan_sends,
)
from alerts_service.domain.firings import Firing, UpliftPlan, cooldown_allows
from alerts_service.domain.wecom_messages import (
    markdown_payload,
    numbered_parts,
    render_alert,
    render_digest,
    split_utf8,
)

from shared.timeutil import UTC


def test_3000_chinese_characters_split_on_character_boundaries():
    text = "高" * 3000  # 9,000 bytes
    parts = split_utf8(text)
    assert [len(p) for p in parts] == [1365, 1365, 270]  # 1,365 × 3 = 4,095 ≤ 4,096 < 4,098
    assert [len(p.encode("utf-8")) for p in parts] == [4095, 4095, 810]
    assert "".join(parts) == text


def test_mixed_widths_including_a_4_byte_character_are_never_cut():
    text = ("a𡉃上" * 600)  # 1 + 4 + 3 = 8 bytes per triple, 4,800 bytes
    parts = split_utf8(text, 4096)
    assert all(len(p.encode("utf-8")) <= 4096 for p in parts)
    assert "".join(parts) == text
    assert len(parts[0].encode("utf-8")) == 4096  # 512 triples exactly


def test_split_prefers_a_line_break_in_the_second_half():
    line = "城市销量断崖告警" * 10 + "\n"  # 241 bytes
    text = line * 20  # 4,820 bytes
    parts = split_utf8(text)
    assert parts[0] == line * 16  # 3,856 bytes: the last whole line that fits
    assert "".join(parts) == text
    assert split_utf8("短消息") == ["短消息"]
    assert split_utf8("") == [""]


def test_numbered_parts_fit_the_limit():
    parts = numbered_parts("警" * 3000)
    assert len(parts) == 3
    assert [p.split("\n", 1)[0] for p in parts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(len(p.encode("utf-8")) <= 4096 for p in parts)
    assert "".join(p.split("\n", 1)[1] for p in parts) == "警" * 3000
    with pytest.raises(ValueError):
        markdown_payload("警" * 1366)
    assert markdown_payload("## 你好") == {"msgtype": "markdown", "markdown": {"content": "## 你好"}}


FIRING = Firing(
    rule_id="south-heat-wave", rule_version=1, kind="weather_spell", city_code="440100", city_name="广州",
    region="华南", fire_key="2016-07-10", severity="orange",
    title="高温预警：广州 2016-07-10 起连续 3 天最高气温 ≥ 35℃，目标上调 15%",
    evidence={"peak_c": "38", "tmax_c": {"2016-07-10": "35", "2016-07-11": "36"}},
    uplift=UpliftPlan("upl-x", Decimal("15"), date(2016, 7, 10), date(2016, 7, 12), "r"),
)


def test_render_alert_markdown():
    assert render_alert(FIRING) == (
        "### 高温预警：广州 2016-07-10 起连续 3 天最高气温 ≥ 35℃，目标上调 15%\n"
        "> 城市：广州（华南）\n"
        '> 级别：<font color="warning">橙色</font>\n'
        "> 规则：south-heat-wave v1（weather_spell）\n"
        "> 上调：15%，2016-07-10 至 2016-07-12\n"
        "> peak_c：38\n"
        "> tmax_c：2016-07-10: 35，2016-07-11: 36"
    )


def test_a_digest_stays_under_the_limit_and_counts_the_rest():
    titles = [f"销量断崖：城市{i} 实际 1，较基线 100.00 下降 99.0%" for i in range(300)]
    digest = render_digest(titles)
    assert len(digest.encode("utf-8")) <= 4096
    assert digest.startswith("### 告警汇总（300 条）\n- 销量断崖：城市0 ")
    shown = digest.count("\n- ")
    assert digest.endswith(f"\n…及其他 {300 - shown} 条")
    assert render_digest(["甲", "乙"]) == "### 告警汇总（2 条）\n- 甲\n- 乙"


def test_rate_limiter_allows_20_per_sliding_minute_per_robot():
    limiter = RobotRateLimiter()
    start = datetime(2016, 7, 5, 1, 0, tzinfo=UTC)
    assert [limiter.try_acquire("华南", start + timedelta(seconds=i)) for i in range(21)] == [True] * 20 + [False]
    assert limiter.try_acquire("华东", start) is True  # another robot has its own budget
    assert limiter.free_slots("华南", start + timedelta(seconds=59)) == 0
    assert limiter.next_free_at("华南", start + timedelta(seconds=30)) == start + timedelta(seconds=60)
    assert limiter.free_slots("华南", start + timedelta(seconds=60)) == 1  # the first send has left the window
    assert limiter.try_acquire("华南", start + timedelta(seconds=60)) is True


def test_plan_sends_merges_the_overflow_into_a_digest_or_queues_it():
    pending = [f"m{i}" for i in range(25)]
    plan = plan_sends(pending, 20)
    assert plan.send == tuple(pending[:19]) and plan.digest_of == tuple(pending[19:]) and plan.queued == ()
    queued = plan_sends(pending, 20, merge_overflow=False)
    assert queued.send == tuple(pending[:20]) and queued.queued == tuple(pending[20:])
    assert plan_sends(pending[:3], 20) == SendPlan(("m0", "m1", "m2"), (), ())
    assert plan_sends(pending, 0) == SendPlan((), (), tuple(pending))


@pytest.mark.parametrize(
    "status, body, error, expected",
    [
        (200, {"errcode": 0, "errmsg": "ok"}, None, (SUCCESS, 0)),
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}, None, (RETRY, 45009)),
        (200, {"errcode": -1, "errmsg": "system busy"}, None, (RETRY, -1)),
        (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, None, (PERMANENT, 93000)),
        (200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}, None, (PERMANENT, 40058)),
        (200, {"ok": True}, None, (PERMANENT, None)),
        (200, "not json", None, (PERMANENT, None)),
        (502, None, None, (RETRY, None)),
        (429, None, None, (RETRY, None)),
        (404, None, None, (PERMANENT, None)),
        (None, None, "connection refused", (RETRY, None)),
    ],
)
def test_wecom_responses(status, body, error, expected):
    outcome = classify_response(status, body, error)
    assert (outcome.status, outcome.errcode) == expected


def test_webhook_responses():
    assert [classify_webhook_response(s).status for s in (200, 204, 400, 503)] == [SUCCESS, SUCCESS, PERMANENT, RETRY]
    assert classify_webhook_response(None, "timeout").status == RETRY


def test_exponential_backoff_capped_and_bounded():
    policy = RetryPolicy(max_attempts=5, base_delay=timedelta(seconds=2), max_delay=timedelta(seconds=10))
    assert [policy.delay_before(n) for n in range(1, 7)] == [
        timedelta(0), timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8), timedelta(seconds=10), None,
    ]


def test_cooldown():
    fired = datetime(2016, 7, 11, tzinfo=UTC)
    assert cooldown_allows(None, fired, timedelta(days=7))
    assert not cooldown_allows(fired, fired + timedelta(days=6, hours=23), timedelta(days=7))
    assert cooldown_allows(fired, fired + timedelta(days=7), timedelta(days=7))
