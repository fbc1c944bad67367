#!/usr/bin/env bash
# Start or stop the Docker engine the way the test setup runs it (start-services.sh starts it through here;
# the engine-restart test stops and starts it again with exactly the same command line).
#   start   (unless it answers already) dockerd in its own session (a Ctrl-C on whoever started it does not reach it), log in
#           /var/log/dockerd.log; returns once `docker info` answers (exit 1 after 60 s)
#   stop    SIGTERM to dockerd (it stops its containers, as on a host shutdown); returns once it is gone
#           (exit 1 after 60 s)
set -euo pipefail

pid_file=/var/run/docker.pid

case "${1:-}" in
  start)
    docker info >/dev/null 2>&1 && exit 0
    # A dockerd still shutting down holds its pid file and state: wait for it rather than start a second one.
    for _ in $(seq 1 120); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done
    rm -f "$pid_file"
    setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && exit 0; sleep 0.5; done
    echo "dockerd did not start" >&2
    tail -30 /var/log/dockerd.log >&2
    exit 1
    ;;
  stop)
    pid="$(cat "$pid_file" 2>/dev/null || true)"
    # A stale pid file may name another process by now: only a dockerd is signalled.
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || pid="$(pgrep -xo dockerd || true)"
    [ -n "$pid" ] || exit 0
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
    echo "dockerd ($pid) did not stop within 60 s" >&2
    exit 1
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
