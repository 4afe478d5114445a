#!/usr/bin/python3
"""A typical Python webhook sender: requests with urllib3's Retry.

The retry setup most tutorials and answers suggest: a Session with an
HTTPAdapter whose Retry retries 5 times on the usual "server error" statuses
(POST explicitly allowed), with exponential backoff and a 10 s timeout per
attempt. Each line of $HOOKSIM_EVENT_FILE is POSTed, byte for byte, to
$HOOKSIM_URL as application/json.

Run it through the conformance battery:
  hooksim conform --sender-cmd '/usr/bin/python3 examples/senders/requests_retry_sender.py'
(Debian: apt-get install python3-requests.)
"""
import os
import sys

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def make_session():
    retry = Retry(
        total=5,
        backoff_factor=0.5,
        status_forcelist=[500, 502, 503, 504],
        allowed_methods=frozenset(["POST"]),
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def main():
    url = os.environ["HOOKSIM_URL"]
    session = make_session()
    failed = 0
    with open(os.environ["HOOKSIM_EVENT_FILE"], "rb") as events:
        for line in events:
            body = line.rstrip(b"\r\n")
            if not body.strip():
                continue
            try:
                response = session.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
                print("delivered: %d" % response.status_code)
                if not response.ok:
                    failed += 1
            except requests.RequestException as error:
                print("gave up: %s" % error, file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
