# SPDX-License-Identifier: MIT
# Bad input against GET /events (issue #7 §3): topics with invalid UTF-8 or control
# characters, and a Last-Event-ID that tries to inject into the stream.
import json

import pytest
import requests

from bad_input_support import assert_round_trip


# --- topics and ids: invalid UTF-8 and control characters ----------------------------------
@pytest.mark.parametrize("topic", ["%FF", "%C3%A9", "a%00b", "a%0D%0Aevent:x", "a%7F",
                                   "a%09b", "a%1Bb", "%E2%80%A8", "orders/%FF/*"])
def test_subscribe_topic_with_bad_bytes_is_400(server, topic):
    r = requests.get(server.url + "/events?topic=" + topic, timeout=5)
    assert r.status_code == 400
    assert r.json()["error"] == "bad_topic"


def test_last_event_id_with_bad_bytes_cannot_inject(server):
    """An id that is not ours (control characters, invalid UTF-8) is answered with one
    ssecast.history-lost event whose data is JSON; nothing is injected into the stream."""
    for query in ["lastEventId=1%0D%0Aevent:%20evil%0A%0Adata:%20x", "lastEventId=%FF%FE",
                  "lastEventId=1-1%00"]:
        s = server.subscribe("t", query=query)
        assert s.status == 200
        s.sock.settimeout(5)
        while s.buf.count(b"\n\n") < 2:
            s._read_more()
        assert s.buf.startswith(b"retry:")
        frame = s.buf.split(b"\n\n")[1]  # [0] is the retry line
        lines = frame.split(b"\n")
        fields = [line.split(b":", 1)[0] for line in lines]
        assert fields == [b"id", b"event", b"data"] or fields == [b"event", b"data"], frame
        assert b"event: ssecast.history-lost" in lines
        # Decoded the way a browser does (WHATWG: UTF-8 decode with replacement): the id is
        # echoed back byte for byte, so invalid UTF-8 in it stays invalid on the wire.
        data = json.loads(lines[-1][len(b"data: "):].decode("utf-8", "replace"))
        assert "lastEventId" in data
        s.close()
    assert_round_trip(server)
