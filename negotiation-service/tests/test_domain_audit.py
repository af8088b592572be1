import hashlib
import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D

from negotiation_service.domain.audit import GENESIS_HASH, canonical_json, next_entry, verify_chain

from shared.timeutil import SHANGHAI, UTC


def chain(length=4):
    entries, previous = [], None
    for index in range(length):
        previous = next_entry(previous, f"u_{index}", datetime(2024, 6, 2, 10, index, tzinfo=SHANGHAI),
                              "request.approved", f"request:req-{index}", {"status": "pending"},
                              {"status": "approved", "claim": D("700000"), "city": "上海"})
        entries.append(previous)
    return entries


def test_first_row_hash_is_sha256_of_canonical_json():
    first = chain(1)[0]
    assert first.prev_hash == GENESIS_HASH
    assert first.at == datetime(2024, 6, 2, 2, 0, tzinfo=UTC)
    expected_text = (
        '{"action":"request.approved","actor":"u_0","after":{"city":"上海","claim":"700000","status":"approved"},'
        '"at":"2024-06-02T02:00:00+00:00","before":{"status":"pending"},"entity":"request:req-0",'
        f'"prev_hash":"{GENESIS_HASH}","seq":1}}'
    )
    assert canonical_json({"seq": 1, "actor": "u_0", "at": first.at, "action": "request.approved",
                           "entity": "request:req-0", "before": first.before, "after": first.after,
                           "prev_hash": GENESIS_HASH}) == expected_text
    assert first.hash == hashlib.sha256(expected_text.encode("utf-8")).hexdigest()
    assert json.loads(expected_text)["after"]["city"] == "上海"


def test_rows_link_and_an_intact_chain_verifies():
    entries = chain()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    result = verify_chain(entries)
    assert result.ok is True and result.rows == 4 and result.first_broken_seq is None


def test_altering_one_row_names_that_row():
    entries = chain()
    entries[2] = replace(entries[2], after={"status": "approved", "claim": "800000", "city": "上海"})
    result = verify_chain(entries)
    assert result.ok is False and result.first_broken_seq == 3
    assert result.problem == "row content does not match its hash"


def test_rehashing_an_altered_row_breaks_the_next_link():
    entries = chain()
    forged = next_entry(entries[0], "u_evil", entries[1].at, "request.approved", "request:req-1", None, {"x": 1})
    entries[1] = forged
    result = verify_chain(entries)
    assert result.ok is False and result.first_broken_seq == 3
    assert result.problem == "prev_hash does not match the previous row"


def test_deleted_row_is_named():
    entries = chain()
    del entries[1]
    result = verify_chain(entries)
    assert result.ok is False and result.first_broken_seq == 2
    assert result.problem == "row 2 missing or out of order"
    assert verify_chain([]).ok is True
