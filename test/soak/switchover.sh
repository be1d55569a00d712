#!/bin/sh
# Run inside the soak's container (the cluster of test/e2e/container/pg-cluster.sh): make the standby
# node "$2" the primary and the primary node "$1" its standby, as `repmgr standby switchover` does but
# without the SSH it needs between nodes. "$1" is shut down cleanly, so its last WAL has reached "$2";
# repmgr promotes "$2"; "$1" starts again as a standby of "$2" (rewound only if it went past it) and is
# registered again. A dump running on the standby meanwhile sees it promoted and must fail closed.
set -eu
old=$1 new=$2
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
BASE=/var/lib/postgresql/e2e
port_of() { if [ "$1" = primary ]; then echo 5432; else echo 5433; fi; }
as_postgres() { runuser -u postgres -- "$@"; }
streaming() {
  for _ in $(seq 60); do
    state=$(as_postgres psql -X -A -t -q -h /run/postgresql -p "$(port_of "$old")" -d postgres \
      -c 'SELECT status FROM pg_stat_wal_receiver' 2>/dev/null || true)
    [ "$state" = streaming ] && return 0
    sleep 0.5
  done
  return 1
}

systemctl stop "e2e-postgres@$old"
as_postgres "$BIN/repmgr" -f "/etc/repmgr/$new.conf" standby promote --log-level=WARNING
as_postgres touch "$BASE/$old/standby.signal"
printf "primary_conninfo = 'host=127.0.0.1 port=%s user=repmgr application_name=%s connect_timeout=2'\n" \
  "$(port_of "$new")" "$old" | as_postgres tee -a "$BASE/$old/postgresql.auto.conf" > /dev/null
systemctl start "e2e-postgres@$old"
if ! streaming; then
  echo "switchover: $old does not stream from $new, rewinding it" >&2
  systemctl stop "e2e-postgres@$old"
  as_postgres "$BIN/pg_rewind" -D "$BASE/$old" \
    --source-server="host=127.0.0.1 port=$(port_of "$new") user=repmgr dbname=postgres"
  as_postgres touch "$BASE/$old/standby.signal"
  systemctl start "e2e-postgres@$old"
  streaming
fi
as_postgres "$BIN/repmgr" -f "/etc/repmgr/$old.conf" standby register --force --log-level=WARNING
