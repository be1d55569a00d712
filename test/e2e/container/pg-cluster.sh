#!/bin/sh
# Run inside the end-to-end container: a PostgreSQL primary (port 5432) and a streaming standby
# (port 5433) registered with repmgr, each a systemd service (e2e-postgres@primary/standby), with
# the standby's repmgrd as the real service "repmgrd", and a database "app" with some rows.
set -eu
# The newest PostgreSQL installed: 15 on Debian 12, 17 on Debian 13.
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
BASE=/var/lib/postgresql/e2e
as_postgres() { runuser -u postgres -- "$@"; }

install -d -o postgres -g postgres -m 0700 "$BASE" /etc/repmgr

cat > /etc/systemd/system/e2e-postgres@.service <<EOF
[Unit]
Description=PostgreSQL test node %i

[Service]
Type=notify
User=postgres
ExecStart=$BIN/postgres -D $BASE/%i
ExecReload=/bin/kill -HUP \$MAINPID
KillMode=mixed
KillSignal=SIGINT
TimeoutSec=60
EOF

cat > /etc/systemd/system/repmgrd.service <<EOF
[Unit]
Description=repmgrd of the test standby
After=e2e-postgres@standby.service

[Service]
User=postgres
ExecStart=$BIN/repmgrd -f /etc/repmgr/standby.conf --daemonize=false

[Install]
WantedBy=multi-user.target
EOF

for node in primary standby; do
  if [ $node = primary ]; then id=1; port=5432; else id=2; port=5433; fi
  cat > /etc/repmgr/$node.conf <<EOF
node_id=$id
node_name='$node'
conninfo='host=127.0.0.1 port=$port user=repmgr dbname=repmgr connect_timeout=2'
data_directory='$BASE/$node'
pg_bindir='$BIN'
use_replication_slots=yes
failover='manual'
monitor_interval_secs=2
service_start_command='systemctl start e2e-postgres@$node'
service_stop_command='systemctl stop e2e-postgres@$node'
service_restart_command='systemctl restart e2e-postgres@$node'
EOF
  chown postgres:postgres /etc/repmgr/$node.conf
done

as_postgres $BIN/initdb -D $BASE/primary -U postgres -A trust --no-instructions
cat >> $BASE/primary/postgresql.conf <<EOF
listen_addresses = '127.0.0.1'
port = 5432
unix_socket_directories = '/run/postgresql'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_log_hints = on
shared_preload_libraries = 'repmgr'
fsync = off
EOF
systemctl daemon-reload
systemctl start e2e-postgres@primary
as_postgres psql -X -q -h /run/postgresql -p 5432 -c 'CREATE USER repmgr SUPERUSER' -c 'CREATE DATABASE repmgr OWNER repmgr' -c 'CREATE DATABASE app'
as_postgres psql -X -q -h /run/postgresql -p 5432 -d app \
  -c 'CREATE TABLE items (id int PRIMARY KEY, label text)' \
  -c "INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 5000) AS i"
as_postgres $BIN/repmgr -f /etc/repmgr/primary.conf primary register
as_postgres $BIN/repmgr -h 127.0.0.1 -p 5432 -U repmgr -d repmgr -f /etc/repmgr/standby.conf standby clone --fast-checkpoint
echo 'port = 5433' >> $BASE/standby/postgresql.conf
systemctl start e2e-postgres@standby
as_postgres $BIN/repmgr -f /etc/repmgr/standby.conf standby register --wait-sync=30
systemctl enable --now repmgrd
