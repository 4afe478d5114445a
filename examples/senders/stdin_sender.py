#!/usr/bin/python3
"""A webhook worker that reads events from standard input as they happen.

Python 3's standard library only. The shape of a real delivery worker fed by
a queue: the main thread reads events (one JSON document per line) from
standard input for as long as it stays open and hands each to a bounded
queue; CONCURRENCY worker threads (STDIN_SENDER_CONCURRENCY, default 16)
deliver them, each over its own keep-alive connection, to every URL of
HOOKSIM_URLS (one per line; else HOOKSIM_URL).

Retries: a 5xx, a 429, a timeout (10 s) or a connection error is
re-attempted after the delays of HOOKSIM_RETRY_SCHEDULE_MS (one per
re-attempt, in ms, as `hooksim bench` and `hooksim conform` hand it over),
or without it up to 5 times (6 attempts at most) after the divshot
contract's schedule, 5 s, 5 min, 30 min, 2 h, 5 h, each delay multiplied by
STDIN_SENDER_SCHEDULE_SCALE (default 1; 0.001 makes it 5 ms .. 18 s); +-20 %
jitter either way. Any other answer (2xx, 3xx never followed, other 4xx) ends the
delivery. It exits once standard input has ended and every delivery has
ended, printing its counts on standard error.

    hooksim bench --sender-cmd \\
        'STDIN_SENDER_SCHEDULE_SCALE=0.001 /usr/bin/python3 examples/senders/stdin_sender.py' \\
        --count 2000 --failure-rate 0.1 --threshold 'never_seen==0'
"""
import heapq
import http.client
import os
import random
import sys
import threading
import time
import urllib.parse

SCHEDULE_S = [5, 300, 1800, 7200, 18000]
JITTER = 0.2
TIMEOUT_S = 10
QUEUE_LIMIT = 10000


class Work:
    """New deliveries and due re-attempts, shared by the workers."""

    def __init__(self):
        self.cond = threading.Condition()
        self.fresh = []          # (body, url index), oldest first
        self.fresh_at = 0
        self.retries = []        # heap of (due, seq, body, url index, attempt)
        self.seq = 0
        self.reading = True
        self.busy = 0
        self.counts = {"attempts": 0, "delivered": 0, "gave_up": 0}

    def put(self, body, urls):
        with self.cond:
            while len(self.fresh) - self.fresh_at >= QUEUE_LIMIT:
                self.cond.wait()
            for i in range(urls):
                self.fresh.append((body, i, 1))
            self.cond.notify_all()

    def take(self):
        """The next attempt to make, or None when everything has ended."""
        with self.cond:
            while True:
                now = time.monotonic()
                if self.retries and self.retries[0][0] <= now:
                    _, _, body, url, attempt = heapq.heappop(self.retries)
                    self.busy += 1
                    return body, url, attempt
                if self.fresh_at < len(self.fresh):
                    item = self.fresh[self.fresh_at]
                    self.fresh_at += 1
                    if self.fresh_at > 4096:
                        del self.fresh[:self.fresh_at]
                        self.fresh_at = 0
                    self.busy += 1
                    self.cond.notify_all()
                    return item
                if not self.reading and not self.retries and self.busy == 0:
                    self.cond.notify_all()
                    return None
                wait = self.retries[0][0] - now if self.retries else None
                self.cond.wait(wait)

    def done(self, body, url, attempt, retry):
        with self.cond:
            self.busy -= 1
            self.counts["attempts"] += 1
            if retry == "delivered":
                self.counts["delivered"] += 1
            elif retry and attempt <= len(DELAYS_S):
                delay = DELAYS_S[attempt - 1]
                delay *= 1 + random.uniform(-JITTER, JITTER)
                self.seq += 1
                heapq.heappush(self.retries, (time.monotonic() + delay,
                                              self.seq, body, url,
                                              attempt + 1))
            else:
                self.counts["gave_up"] += 1
            self.cond.notify_all()

    def end_of_input(self):
        with self.cond:
            self.reading = False
            self.cond.notify_all()


def attempt(conns, targets, url, body):
    """One POST; "delivered", True (re-attempt) or False (end)."""
    host, port, path = targets[url]
    conn = conns.get(url)
    if conn is None:
        conn = conns[url] = http.client.HTTPConnection(host, port,
                                                       timeout=TIMEOUT_S)
    try:
        conn.request("POST", path, body=body,
                     headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return True
    if 200 <= answer.status < 300:
        return "delivered"
    return answer.status >= 500 or answer.status == 429


def worker(work, targets):
    conns = {}
    while True:
        item = work.take()
        if item is None:
            return
        body, url, n = item
        work.done(body, url, n, attempt(conns, targets, url, body))


def main():
    urls = os.environ.get("HOOKSIM_URLS", "").split() or [
        os.environ["HOOKSIM_URL"]]
    targets = []
    for url in urls:
        u = urllib.parse.urlsplit(url)
        targets.append((u.hostname, u.port or 80, u.path or "/"))
    work = Work()
    concurrency = int(os.environ.get("STDIN_SENDER_CONCURRENCY", "16"))
    threads = [threading.Thread(target=worker, args=(work, targets),
                                daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for line in sys.stdin.buffer:
        body = line.rstrip(b"\r\n")
        if body:
            work.put(body, len(targets))
    work.end_of_input()
    for t in threads:
        t.join()
    c = work.counts
    print(f"stdin_sender: {c['attempts']} attempts, {c['delivered']} "
          f"delivered, {c['gave_up']} gave up", file=sys.stderr)
    return 0


def delays_s():
    """The re-attempt delays in seconds, the last one's index + 1 = the
    re-attempts there are."""
    handed = os.environ.get("HOOKSIM_RETRY_SCHEDULE_MS", "")
    if handed:
        return [int(ms) / 1000 for ms in handed.split(",")]
    scale = float(os.environ.get("STDIN_SENDER_SCHEDULE_SCALE", "1"))
    return [s * scale for s in SCHEDULE_S]


DELAYS_S = delays_s()

if __name__ == "__main__":
    sys.exit(main())
