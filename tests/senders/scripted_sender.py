#!/usr/bin/env python3
"""A sender with a known habit, for the tests of `hooksim bench --sender-cmd`.

Reads events from standard input (one JSON document per line) and POSTs each,
one after another, to every URL of $HOOKSIM_URLS (one per line). A non-2xx
answer (or a connection error) is retried at once, up to SCRIPTED_ATTEMPTS
attempts in all (default 3); after a 2xx the same body is sent
SCRIPTED_RESENDS more times (default 0), which the receivers must count as
duplicates. SCRIPTED_EXIT=N: exit with N at once, reading nothing.
SCRIPTED_TAKE_SCHEDULE=1: wait the delays of $HOOKSIM_RETRY_SCHEDULE_MS
(ms, one per re-attempt, the last repeating) before re-attempts.
SCRIPTED_SIGN=1: sign every request by Standard Webhooks with
$HOOKSIM_SECRET. SCRIPTED_GARBAGE=N: first send N requests that are not
HTTP, each on a connection of its own (the receivers answer 400).
Python 3 standard library only.
"""
import base64
import hashlib
import hmac
import http.client
import os
import socket
import sys
import time
import urllib.parse


def signed(body, index):
    """Standard Webhooks headers for `body` with $HOOKSIM_SECRET."""
    secret = os.environ["HOOKSIM_SECRET"]
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id = "msg_%d" % index
    timestamp = str(int(time.time()))
    mac = hmac.new(key, b"%s.%s.%s" % (msg_id.encode(), timestamp.encode(),
                                       body), hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def garbage(url, n):
    u = urllib.parse.urlsplit(url)
    for _ in range(n):
        with socket.create_connection((u.hostname, u.port), timeout=10) as s:
            s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass


def post(conn, path, body, headers=None):
    try:
        conn.request("POST", path, body=body,
                     headers={"Content-Type": "application/json",
                              **(headers or {})})
        answer = conn.getresponse()
        answer.read()
        return answer.status
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0


def main():
    if "SCRIPTED_EXIT" in os.environ:
        print("scripted sender: exiting as told", file=sys.stderr)
        return int(os.environ["SCRIPTED_EXIT"])
    attempts = int(os.environ.get("SCRIPTED_ATTEMPTS", "3"))
    resends = int(os.environ.get("SCRIPTED_RESENDS", "0"))
    delays = []
    if os.environ.get("SCRIPTED_TAKE_SCHEDULE"):
        delays = [int(ms) / 1000 for ms in
                  os.environ["HOOKSIM_RETRY_SCHEDULE_MS"].split(",")]
    sign = bool(os.environ.get("SCRIPTED_SIGN"))
    urls = os.environ["HOOKSIM_URLS"].split()
    garbage(urls[0], int(os.environ.get("SCRIPTED_GARBAGE", "0")))
    targets = []
    for url in urls:
        u = urllib.parse.urlsplit(url)
        targets.append((http.client.HTTPConnection(u.hostname, u.port,
                                                   timeout=10), u.path))
    for index, line in enumerate(sys.stdin.buffer):
        body = line.rstrip(b"\r\n")
        if not body:
            continue
        headers = signed(body, index) if sign else None
        for conn, path in targets:
            for k in range(attempts):
                if k > 0 and delays:
                    time.sleep(delays[min(k - 1, len(delays) - 1)])
                status = post(conn, path, body, headers)
                if 200 <= status < 300:
                    for _ in range(resends):
                        post(conn, path, body, headers)
                    break
    return 0


if __name__ == "__main__":
    sys.exit(main())
