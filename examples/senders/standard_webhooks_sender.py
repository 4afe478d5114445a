#!/usr/bin/python3
"""A webhook sender written to the Standard Webhooks specification.

Python's standard library only (http.client, which never follows a
redirect). What it promises, as the spec's "retry schedule" and "signature"
sections describe it
(https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):

- every request is signed: webhook-id, webhook-timestamp and
  webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" with the
  base64 part of the whsec_ secret as key;
- a 2xx is success; anything else (3xx included: never followed), a
  timeout or a connection error is re-attempted, after immediately, 5 s,
  5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (10 attempts);
- a 410 Gone stops the delivery and disables the endpoint (no further
  event is sent to it);
- on 429 and 503 a Retry-After (seconds or an HTTP date) is honoured: the
  next attempt is not before it;
- each attempt times out after 15 s.

Under `hooksim conform` it takes the environment the harness hands it:
HOOKSIM_URL, HOOKSIM_EVENT_FILE, HOOKSIM_SECRET (the signing secret; without
it requests go unsigned) and HOOKSIM_RETRY_SCHEDULE_MS (comma-separated
delays in ms replacing the schedule above, so a run takes seconds, not a
day). With HOOKSIM_CONTRACT=github it signs X-Hub-Signature-256 instead (the
secret text as key) and makes one attempt per event, as GitHub does.

  hooksim conform --contract standard-webhooks \\
      --sender-cmd '/usr/bin/python3 examples/senders/standard_webhooks_sender.py'
"""
import base64
import email.utils
import hashlib
import hmac
import http.client
import os
import sys
import time
import urllib.parse

SCHEDULE_S = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
TIMEOUT_S = 15


def schedule():
    text = os.environ.get("HOOKSIM_RETRY_SCHEDULE_MS", "")
    if text:
        return [int(ms) / 1000.0 for ms in text.split(",")]
    return list(SCHEDULE_S)


def retry_after(value):
    """Seconds to wait from a Retry-After value, or None when unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def sign_headers(secret, github, msg_id, body):
    if not secret:
        return {}
    if github:
        mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature-256": "sha256=" + mac}
    key = base64.b64decode(secret[len("whsec_"):] if
                           secret.startswith("whsec_") else secret)
    timestamp = str(int(time.time()))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + mac.decode(),
    }


def attempt(url, body, headers):
    """(status, Retry-After value) or (None, error text)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80,
                                      timeout=TIMEOUT_S)
    try:
        conn.request("POST", parts.path or "/", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After")
    except (OSError, http.client.HTTPException) as error:
        return None, "%s: %s" % (type(error).__name__, error)
    finally:
        conn.close()


def deliver(url, body, index, secret, github, delays):
    """'delivered', 'gone' or 'failed'."""
    msg_id = "msg_%d_%s" % (index, hashlib.sha256(body).hexdigest()[:16])
    attempts = 1 if github else len(delays) + 1
    for number in range(1, attempts + 1):
        headers = {"Content-Type": "application/json"}
        headers.update(sign_headers(secret, github, msg_id, body))
        status, extra = attempt(url, body, headers)
        print("event %d attempt %d: %s" % (index, number,
                                           status if status else extra))
        if status is not None and 200 <= status < 300:
            return "delivered"
        if status == 410 and not github:
            return "gone"
        if number == attempts:
            break
        wait = delays[min(number - 1, len(delays) - 1)]
        if status in (429, 503):
            hint = retry_after(extra)
            if hint is not None:
                wait = max(wait, hint)
        time.sleep(wait)
    return "failed"


def main():
    url = os.environ["HOOKSIM_URL"]
    secret = os.environ.get("HOOKSIM_SECRET", "")
    github = os.environ.get("HOOKSIM_CONTRACT") == "github"
    delays = schedule()
    failed = 0
    gone = False
    with open(os.environ["HOOKSIM_EVENT_FILE"], "rb") as events:
        for index, line in enumerate(events):
            body = line.rstrip(b"\r\n")
            if not body.strip():
                continue
            if gone:
                failed += 1  # The endpoint is disabled: nothing more to it.
                continue
            outcome = deliver(url, body, index, secret, github, delays)
            if outcome == "gone":
                gone = True
            if outcome != "delivered":
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
