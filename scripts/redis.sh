#!/usr/bin/env bash
# Throwaway Redis for tests: `redis.sh start DIR PORT` prints its URL, `redis.sh stop DIR`
# stops it. Installs redis-server from Debian packages if missing.
set -euo pipefail

cmd=${1:?usage: redis.sh start DIR PORT | stop DIR}
dir=${2:?directory}

if ! command -v redis-server >/dev/null; then
  echo "redis.sh: installing redis-server from Debian packages" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

case "$cmd" in
  start)
    port=${3:?port}
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
    for _ in $(seq 100); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
    echo "redis://127.0.0.1:$port/0"
    ;;
  stop)
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
