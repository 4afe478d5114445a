#!/bin/sh
# A typical shell webhook sender: curl with its own retry option.
#
# `curl --retry 5` retries what curl calls transient errors: timeouts and
# HTTP 408, 429, 500, 502, 503 and 504, with exponential backoff from 1 s;
# --max-time bounds each attempt. Each line of $HOOKSIM_EVENT_FILE is
# POSTed, byte for byte, to $HOOKSIM_URL as application/json.
#
#   hooksim conform --sender-cmd 'sh examples/senders/curl_retry_sender.sh'
#
# CURL_EXTRA_OPTS adds options (curl_retry_all_errors_sender.sh uses it).
status=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -z "$line" ] && continue
  # (The answer goes to stdout: with `-o /dev/null`, curl 7.88 fails every
  # retry with "(23) Failed to truncate file" and never re-sends.)
  # shellcheck disable=SC2086  # CURL_EXTRA_OPTS is a list of options.
  printf '%s' "$line" | curl -sS -w '\nanswer: %{http_code}\n' \
    --retry 5 --max-time 10 $CURL_EXTRA_OPTS \
    -H 'Content-Type: application/json' --data-binary @- "$HOOKSIM_URL" ||
    status=1
done < "$HOOKSIM_EVENT_FILE"
exit "$status"
