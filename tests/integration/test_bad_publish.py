# SPDX-License-Identifier: MIT
# Bad input against POST /publish (issue #7 §3): topics and types with invalid UTF-8 or
# control characters. (The body rules as a whole: publish/publish_body_test.cpp and
# test_publish_body_rules.py.)
from bad_input_support import assert_round_trip


# --- topics and types: invalid UTF-8 and control characters -------------------------------
def test_publish_topic_with_bad_bytes_is_400(server):
    for t in ["é", "a\u0000b", "a\nb", "a\rb", "a\u007f", "a\u2028b", "a b"]:
        r = server.publish({"topic": t, "data": 1})
        assert r.status_code == 400, repr(t)
        assert r.json()["error"] == "bad_topic"
    # Invalid UTF-8 in the body is not JSON at all.
    r = server.publish(None, raw=b'{"topic": "a\xff", "data": 1}')
    assert r.status_code == 400 and r.json()["error"] == "bad_json"
    assert_round_trip(server)


def test_publish_type_with_bad_bytes_is_400(server):
    s = server.subscribe("t")
    for bad in ["", "a\u0000", "a\rb", "\n", "x" * 201, "a\r\nevent: evil"]:
        r = server.publish({"topic": "t", "type": bad, "data": 1})
        assert r.status_code == 400, repr(bad)
        assert r.json()["error"] == "bad_request"
    for raw in [b'{"topic": "t", "type": "\xc3\x28", "data": 1}',
                b'{"topic": "t", "type": "\xed\xa0\x80", "data": 1}']:  # lone surrogate
        r = server.publish(None, raw=raw)
        assert r.status_code == 400 and r.json()["error"] == "bad_json"
    # Nothing of the refused events reached the subscriber.
    server.publish({"topic": "t", "type": "ok", "data": "only"})
    event = s.next_event(timeout=5)
    assert (event["event"], event["data"]) == ("ok", "only")
    s.close()


def test_publish_type_with_other_control_characters_is_400(server):
    """Control characters other than CR/LF/NUL (ESC, BEL, DEL, U+0085) in `type`."""
    for bad in ["a\u001b[31m", "a\u0007", "a\u007f", "a\u0085b"]:
        r = server.publish({"topic": "t", "type": bad, "data": 1})
        assert r.status_code == 400, repr(bad)
