"""WeCom (企业微信) group-robot messages: markdown rendering and splitting under the 4,096-byte limit.

The robot rejects a markdown `content` longer than 4,096 bytes of UTF-8. A longer body is split
into parts that never cut a character in half: at the last line break inside the limit when there
is one in the second half of the part, otherwise at the last whole character.
"""

from __future__ import annotations

from typing import Any

from alerts_service.domain.firings import Firing

MAX_MARKDOWN_BYTES = 4096
_SEVERITY_COLOUR = {"critical": "warning", "red": "warning", "orange": "warning", "warning": "warning"}
_SEVERITY_TEXT = {
    "critical": "严重",
    "warning": "警告",
    "info": "提示",
    "red": "红色",
    "orange": "橙色",
    "yellow": "黄色",
}


def split_utf8(text: str, max_bytes: int = MAX_MARKDOWN_BYTES) -> list[str]:
    """Parts of at most `max_bytes` UTF-8 bytes each; `"".join(parts) == text`."""
    if max_bytes < 4:
        raise ValueError("max_bytes must hold at least one character (4 bytes)")
    parts: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > max_bytes:
        cut = _last_whole_character(rest, max_bytes)
        newline = rest.rfind("\n", 0, cut)
        if newline + 1 > cut // 2:
            cut = newline + 1
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


def numbered_parts(text: str, max_bytes: int = MAX_MARKDOWN_BYTES) -> list[str]:
    """Like `split_utf8`, with a `(i/n)` line on each part when there is more than one."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    reserve = 24  # "(999/999)\n" and margin
    parts = split_utf8(text, max_bytes - reserve)
    return [f"({index}/{len(parts)})\n{part}" for index, part in enumerate(parts, start=1)]


def markdown_payload(content: str) -> dict[str, Any]:
    if len(content.encode("utf-8")) > MAX_MARKDOWN_BYTES:
        raise ValueError("markdown content over 4096 bytes: split it first")
    return {"msgtype": "markdown", "markdown": {"content": content}}


def render_alert(firing: Firing) -> str:
    level = _SEVERITY_TEXT.get(firing.severity, firing.severity)
    colour = _SEVERITY_COLOUR.get(firing.severity, "info")
    lines = [
        f"### {firing.title}",
        f"> 城市：{firing.city_name}（{firing.region}）",
        f'> 级别：<font color="{colour}">{level}</font>',
        f"> 规则：{firing.rule_id} v{firing.rule_version}（{firing.kind}）",
    ]
    if firing.uplift is not None:
        lines.append(
            f"> 上调：{format(firing.uplift.percent, 'f')}%，{firing.uplift.start_day.isoformat()}"
            f" 至 {firing.uplift.end_day.isoformat()}"
        )
    for key, value in firing.evidence.items():
        if isinstance(value, dict):
            if value:
                shown = "，".join(f"{k}: {v}" for k, v in value.items())
                lines.append(f"> {key}：{shown}")
        else:
            lines.append(f"> {key}：{value}")
    return "\n".join(lines)


def render_digest(titles: list[str], max_bytes: int = MAX_MARKDOWN_BYTES) -> str:
    """One message listing many alerts by title, kept under the limit ("…及其他 N 条")."""
    header = f"### 告警汇总（{len(titles)} 条）"
    lines = [header]
    size = len(header.encode("utf-8"))
    for index, title in enumerate(titles):
        line = f"\n- {title}"
        tail = f"\n…及其他 {len(titles) - index} 条"
        if size + len(line.encode("utf-8")) + len(tail.encode("utf-8")) > max_bytes:
            lines.append(tail)
            break
        lines.append(line)
        size += len(line.encode("utf-8"))
    return "".join(lines)


def _last_whole_character(text: str, max_bytes: int) -> int:
    """The largest index i such that text[:i] fits in max_bytes of UTF-8."""
    encoded = text.encode("utf-8")[:max_bytes]
    return len(encoded.decode("utf-8", errors="ignore"))
