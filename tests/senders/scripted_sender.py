#!/usr/bin/env python3
"""A sender with a known habit, for the tests of `hooksim bench --sender-cmd`.

Reads events from standard input (one JSON document per line) and POSTs each,
one after another, to every URL of $HOOKSIM_URLS (one per line). A non-2xx
answer (or a connection error) is retried at once, up to SCRIPTED_ATTEMPTS
attempts in all (default 3); after a 2xx the same body is sent
SCRIPTED_RESENDS more times (default 0), which the receivers must count as
duplicates. SCRIPTED_EXIT=N: exit with N at once, reading nothing.
Python 3 standard library only.
"""
import http.client
import os
import sys
import urllib.parse


def post(conn, path, body):
    try:
        conn.request("POST", path, body=body,
                     headers={"Content-Type": "application/json"})
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
    targets = []
    for url in os.environ["HOOKSIM_URLS"].split():
        u = urllib.parse.urlsplit(url)
        targets.append((http.client.HTTPConnection(u.hostname, u.port,
                                                   timeout=10), u.path))
    for line in sys.stdin.buffer:
        body = line.rstrip(b"\r\n")
        if not body:
            continue
        for conn, path in targets:
            for _ in range(attempts):
                status = post(conn, path, body)
                if 200 <= status < 300:
                    for _ in range(resends):
                        post(conn, path, body)
                    break
    return 0


if __name__ == "__main__":
    sys.exit(main())
