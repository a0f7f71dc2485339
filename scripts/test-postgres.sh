#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start STATE_DIR` installs PostgreSQL from Debian
# if it is missing, initdb's a cluster in a fresh temporary directory, starts it on a free
# loopback port (TCP only, no Unix socket) and writes its superuser URL to STATE_DIR/admin_url;
# `stop STATE_DIR` stops it and removes the whole cluster; `restart STATE_DIR` restarts it with
# `pg_ctl restart -m fast` (every session is terminated: the fault injection of
# tests/e2e_idempotency_test.cpp, on a cluster of its own). ctest runs start/stop as a fixture around
# the PostgreSQL test runs. PostgreSQL refuses to run as root, so as root the cluster runs as the
# unprivileged user `nobody`. The tests create one database per server data dir, owned by the
# non-superuser role omniflow_app (so row-level security applies to the servers' queries).
set -euo pipefail

usage() { echo "usage: $0 start|stop|restart STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
state=$2

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

run_as=()
if [ "$(id -u)" -eq 0 ]; then
  run_as=(runuser -u nobody --)
fi

stop_cluster() {
  [ -f "$state/cluster" ] || return 0
  local cluster bin
  cluster=$(cat "$state/cluster")
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$cluster/data/postmaster.pid" ]; then
    "${run_as[@]}" "$bin/pg_ctl" -D "$cluster/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  case "$cluster" in
    /tmp/omniflow-pg-*) rm -rf "$cluster" ;;
  esac
  rm -f "$state/cluster" "$state/admin_url"
}

case "$action" in
  stop)
    stop_cluster
    ;;
  restart)
    cluster=$(cat "$state/cluster")
    "${run_as[@]}" "$(pg_bin)/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -m fast -w -t 60 \
      restart >/dev/null
    ;;
  start)
    stop_cluster  # a cluster left over by an interrupted run
    if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
      bash "$(dirname "$0")/install-deps.sh" postgres
    fi
    bin=$(pg_bin)
    mkdir -p "$state"
    cluster=$(mktemp -d /tmp/omniflow-pg-XXXXXX)
    echo "$cluster" >"$state/cluster"
    chmod 755 "$cluster"
    [ "$(id -u)" -eq 0 ] && chown nobody "$cluster"
    "${run_as[@]}" "$bin/initdb" -D "$cluster/data" -U postgres -A trust -E UTF8 --no-locale \
      --no-sync >"$cluster/initdb.log" 2>&1 || { cat "$cluster/initdb.log" >&2; exit 1; }
    started=0
    for attempt in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      if "${run_as[@]}" "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
           -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=400 -c shared_buffers=64MB" \
           start >/dev/null; then
        started=1
        break
      fi
    done
    if [ "$started" -ne 1 ]; then
      tail -20 "$cluster/server.log" >&2 || true
      exit 1
    fi
    url="postgresql://postgres@127.0.0.1:$port/postgres"
    "$bin/psql" -q -v ON_ERROR_STOP=1 "$url" -c "CREATE ROLE omniflow_app LOGIN" >/dev/null
    echo "$url" >"$state/admin_url"
    echo "PostgreSQL test cluster on 127.0.0.1:$port in $cluster"
    ;;
  *) usage ;;
esac
