#!/usr/bin/env bash
# A throwaway S3-compatible server (moto's server mode) for the tests.
#   scripts/s3.sh start DIR PORT   → prints the endpoint URL once it answers
#   scripts/s3.sh stop DIR
set -euo pipefail
cd "$(dirname "$0")/.."
command=$1 directory=$2

case $command in
start)
  port=$3
  mkdir -p "$directory"
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" > "$directory/s3.log" 2>&1 &
  echo $! > "$directory/s3.pid"
  for _ in $(seq 1 100); do
    if .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then
      echo "http://127.0.0.1:$port"
      exit 0
    fi
    sleep 0.1
  done
  echo "S3 stand-in did not start; see $directory/s3.log" >&2
  exit 1
  ;;
stop)
  if [[ -f $directory/s3.pid ]]; then kill "$(cat "$directory/s3.pid")" 2>/dev/null || true; fi
  ;;
esac
