#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# What a Lua script call costs Redis before it does any work (docs/performance.md §Redis at
# scale): EVALSHA of an empty script, and of 10 redis.call()s of cheap commands, 5,000 calls
# each, pipelined 100 at a time, on a throwaway redis-server; prints usec_per_call from
# INFO commandstats. Usage: bench/redis_eval_overhead.py
import socket
import sys
import os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from conftest import RedisServer
r = RedisServer().start()
s = socket.create_connection(("127.0.0.1", r.port)); f = s.makefile("rb")
def enc(*a):
    out = [b"*%d\r\n" % len(a)]
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode(); out.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(out)
def read():
    line = f.readline()
    if line[:1] in b"+-:": return line
    if line[:1] == b"$":
        n = int(line[1:]); return None if n < 0 else f.read(n + 2)
    if line[:1] == b"*": return [read() for _ in range(max(int(line[1:]), 0))]
for name, body in [("return", "return 1"), ("10 TIME", "for i=1,10 do redis.call('TIME') end return 1"),
                   ("10 PEXPIRE", "for i=1,10 do redis.call('PEXPIRE', 'k'..i, 100000) end return 1"),
                   ("10 concat", "local x for i=1,10 do x = ARGV[1] .. 'topic:' .. ARGV[2] end return 1")]:
    s.sendall(enc("SCRIPT", "LOAD", body)); sha = read().strip()
    s.sendall(enc("CONFIG", "RESETSTAT")); read()
    for i in range(0, 5000, 100):
        s.sendall(b"".join(enc("EVALSHA", sha, "0", "ssecast:", "bench1", "x" * 250, "1", "2", "3", "4", "5") for _ in range(100)))
        for _ in range(100): read()
    s.sendall(enc("INFO", "commandstats")); info = read().decode()
    print(name, [l.split(",")[2] for l in info.splitlines() if "evalsha" in l])
r.stop()
