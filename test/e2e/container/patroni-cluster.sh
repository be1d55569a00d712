#!/bin/sh
# Run inside the end-to-end container: Debian's own etcd.service (on localhost:2379) and two Patroni
# members as Debian's patroni@.service (patroni@node1, the leader, PostgreSQL on port 5432, REST API on
# 8008; patroni@node2, its streaming replica, on 5433 and 8009), configured in /etc/patroni/<member>.yml,
# and a database "app" with some rows. Patroni's HA loop runs every 2 s.
set -eu
# The newest PostgreSQL installed: 15 on Debian 12, 17 on Debian 13, 18 from Debian's development suite.
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
BASE=/var/lib/postgresql/patroni
install -d -o postgres -g postgres -m 0700 "$BASE"
install -d -o root -g postgres -m 0750 /etc/patroni

for member in node1 node2; do
  if [ $member = node1 ]; then port=5432; rest=8008; else port=5433; rest=8009; fi
  cat > /etc/patroni/$member.yml <<EOF
scope: e2e
name: $member
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
etcd3:
  hosts: 127.0.0.1:2379
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    postgresql:
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
  initdb:
    - encoding: UTF8
postgresql:
  listen: 127.0.0.1:$port
  connect_address: 127.0.0.1:$port
  data_dir: $BASE/$member
  bin_dir: $BIN
  pgpass: $BASE/$member.pgpass
  authentication:
    superuser:
      username: postgres
      password: e2e-patroni-superuser
    replication:
      username: replicator
      password: e2e-patroni-replicator
  parameters:
    unix_socket_directories: /run/postgresql
    fsync: "off"
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
watchdog:
  mode: "off"
EOF
  chown root:postgres /etc/patroni/$member.yml
  chmod 0640 /etc/patroni/$member.yml
done

systemctl start etcd.service
as_postgres() { runuser -u postgres -- "$@"; }
sql() { as_postgres psql -X -At -h /run/postgresql -p "$1" -d postgres -c "$2" 2>/dev/null; }
wait_for() {
  what=$1; shift
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ $tries -ge 300 ]; then
      echo "timed out waiting for $what" >&2
      journalctl --no-pager -n 40 -u patroni@node1 -u patroni@node2 -u etcd >&2
      exit 1
    fi
    sleep 0.2
  done
}
leader_runs() { [ "$(sql 5432 'SELECT pg_is_in_recovery()')" = f ]; }
replica_streams() { [ "$(sql 5433 'SELECT status FROM pg_stat_wal_receiver')" = streaming ]; }

systemctl start patroni@node1.service
wait_for "node1 to run as the leader" leader_runs
systemctl start patroni@node2.service
wait_for "node2 to stream from node1" replica_streams

as_postgres psql -X -q -h /run/postgresql -p 5432 -d postgres -c 'CREATE DATABASE app'
as_postgres psql -X -q -h /run/postgresql -p 5432 -d app \
  -c "CREATE TABLE items (id integer PRIMARY KEY, label text)" \
  -c "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) g"
lsn=$(sql 5432 'SELECT pg_current_wal_lsn()')
replayed() { [ "$(sql 5433 "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]; }
wait_for "node2 to replay up to $lsn" replayed
