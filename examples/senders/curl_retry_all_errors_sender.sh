#!/bin/sh
# curl_retry_sender.sh with the options that make curl retry every failure:
# --fail turns HTTP >= 400 into an error, --retry-all-errors (curl >= 7.71)
# retries every error, not only the "transient" ones.
#
#   hooksim conform --sender-cmd 'sh examples/senders/curl_retry_all_errors_sender.sh'
CURL_EXTRA_OPTS="--fail --retry-all-errors" \
  exec sh "$(dirname "$0")/curl_retry_sender.sh"
