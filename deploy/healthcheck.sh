#!/bin/bash
# sluice-healthcheck [URL] — exits 0 when an HTTP GET of URL answers 200.
#
# The container image's HEALTHCHECK. The runtime image holds bash but neither
# curl nor wget, so this speaks just enough HTTP over bash's /dev/tcp. Only
# http://HOST:PORT/PATH; the runtime's own check timeout bounds a hung connect.
set -u
url=${1:-http://127.0.0.1:9125/healthz}
if [[ ! $url =~ ^http://([^/:]+):([0-9]+)(/.*)?$ ]]; then
  echo "sluice-healthcheck: not an http://HOST:PORT/PATH URL: $url" >&2
  exit 2
fi
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]} path=${BASH_REMATCH[3]:-/}
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$host" >&3
if ! IFS= read -r -t 5 status <&3; then
  echo "sluice-healthcheck: no answer from $host:$port" >&2
  exit 1
fi
status=${status%$'\r'}
[[ $status =~ ^HTTP/1\.[01]\ 200( |$) ]] && exit 0
echo "sluice-healthcheck: $url: $status" >&2
exit 1
