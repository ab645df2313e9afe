#!/usr/bin/env bash
# shellcheck disable=SC2317  # the *_ready/*_start functions are called by name
# Make sure the servers the tests use answer on 127.0.0.1: PostgreSQL 5432, MariaDB 3306, Redis 6379.
# A server that doesn't answer is started with this machine's own command and waited for (SERVICE_WAIT s, default 60).
#   scripts/services.sh [postgres] [mariadb] [redis]     # default: all three
set -euo pipefail

WAIT="${SERVICE_WAIT:-60}"

postgres_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }
# shellcheck disable=SC2012  # the machine's own start command
postgres_start() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start; }

mariadb_ready() { mariadb-admin --connect-timeout=2 -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
mariadb_start() {
  install -d -o mysql -g mysql /run/mysqld  # its socket directory is on tmpfs
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}

redis_ready() { [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]]; }
redis_start() {
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

ensure() {
  local name=$1 port=$2
  if "${name}_ready"; then
    echo "services: $name on 127.0.0.1:$port is up"
    return 0
  fi
  echo "services: $name on 127.0.0.1:$port is down; starting it"
  local output
  if ! output=$("${name}_start" 2>&1); then
    echo "services: FAILED to start $name: $output" >&2
    return 1
  fi
  for ((i = 0; i < WAIT; i++)); do
    if "${name}_ready"; then
      echo "services: $name on 127.0.0.1:$port is up (started in ${i}s)"
      return 0
    fi
    sleep 1
  done
  echo "services: FAILED: $name did not answer on 127.0.0.1:$port within ${WAIT}s${output:+ ($output)}" >&2
  return 1
}

declare -A PORTS=([postgres]=5432 [mariadb]=3306 [redis]=6379)
names=("$@")
[[ $# -gt 0 ]] || names=(postgres mariadb redis)
status=0
for name in "${names[@]}"; do
  [[ -n "${PORTS[$name]:-}" ]] || { echo "services: unknown service '$name' (postgres, mariadb, redis)" >&2; exit 2; }
  ensure "$name" "${PORTS[$name]}" || status=1
done
exit "$status"
