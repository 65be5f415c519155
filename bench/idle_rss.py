#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# RSS per idle SSE connection: start ssecast (memory mode), open N idle streams from this
# process (N ≤ ~19,000: one process's open-file limit), compare the server's VmRSS.
# Usage: bench/idle_rss.py [N] [path/to/ssecast]
import resource
import socket
import subprocess
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    binary = sys.argv[2] if len(sys.argv) > 2 else "build/release/ssecast"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rss_kib():
        with open(f"/proc/{server.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

    try:
        time.sleep(0.5)
        base = rss_kib()
        socks = []
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"GET /events?topic=idle{i % 100} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(s)
        for s in socks:
            s.settimeout(10)
            s.recv(4096)  # the response head + retry line: the stream is registered
        time.sleep(1)
        after = rss_kib()
        print(f"idle streams={n} rss_before={base} KiB rss_after={after} KiB "
              f"per_connection={(after - base) * 1024 / n:.0f} bytes")
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
