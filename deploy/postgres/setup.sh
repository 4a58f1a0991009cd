#!/usr/bin/env bash
# Install (if missing), configure and start the PostgreSQL server tracesync uses; idempotent.
#
# Run as root on Debian 12: `bash deploy/postgres/setup.sh` (`make postgres` does this).
# It installs Debian's `postgresql` package when no server is installed, makes sure the cluster
# `<newest version>/main` exists, listens on 127.0.0.1 only and runs, then creates the role and the
# databases. Works without systemd: pg_ctlcluster then runs pg_ctl itself and the server detaches.
#
# Environment (the same variables tracesync's settings read):
#   TRACESYNC_POSTGRES__PORT      (default 5432)
#   TRACESYNC_POSTGRES__USER      (default tracesync)
#   TRACESYNC_POSTGRES__PASSWORD  (default tracesync)
#   TRACESYNC_POSTGRES__DATABASE  (default tracesync; "<name>_test" is created too)
#   PG_CLUSTER                    (default main: the cluster name to create or use)
set -euo pipefail

PORT="${TRACESYNC_POSTGRES__PORT:-5432}"
DB_USER="${TRACESYNC_POSTGRES__USER:-tracesync}"
DB_PASSWORD="${TRACESYNC_POSTGRES__PASSWORD:-tracesync}"
DB_NAME="${TRACESYNC_POSTGRES__DATABASE:-tracesync}"
CLUSTER="${PG_CLUSTER:-main}"
CONFIG_CHANGED=""
READY_TIMEOUT_S=60

say() { echo "postgres-setup: $*"; }
die() { echo "postgres-setup: ERROR: $*" >&2; exit 1; }

newest_installed_version() {
    local bin
    for bin in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x "$bin" ]] && basename "$(dirname "$(dirname "$bin")")"
    done | sort -V | tail -n 1
}

install_server() {
    if [[ -n "$(newest_installed_version)" ]] && command -v pg_ctlcluster >/dev/null; then
        say "server already installed"
        return
    fi
    say "installing Debian package postgresql"
    export DEBIAN_FRONTEND=noninteractive
    # The package's postinst creates the first cluster with the caller's locale; a bare machine
    # often has none set, which would give SQL_ASCII databases.
    export LANG=C.UTF-8 LC_ALL=C.UTF-8
    apt-get update -q
    apt-get install -y -q --no-install-recommends postgresql
}

cluster_status() {  # prints online/down, or nothing when the cluster does not exist
    pg_lsclusters --no-header "$VERSION" "$CLUSTER" 2>/dev/null | awk '{print $4}'
}

ensure_cluster() {
    if [[ -n "$(cluster_status)" ]]; then
        say "cluster $VERSION/$CLUSTER exists"
        return
    fi
    say "creating cluster $VERSION/$CLUSTER on port $PORT"
    # C.UTF-8 always exists on Debian; without it a bare machine would get SQL_ASCII databases.
    pg_createcluster --port "$PORT" --locale C.UTF-8 "$VERSION" "$CLUSTER"
}

# Writes the settings; sets CONFIG_CHANGED when a setting that needs a restart changed.
configure_cluster() {
    local conf_dir="/etc/postgresql/$VERSION/$CLUSTER"
    local wanted="$conf_dir/conf.d/tracesync.conf"
    local tmp
    if [[ "$(pg_conftool -s "$VERSION" "$CLUSTER" show port)" != "$PORT" ]]; then
        say "setting port $PORT"
        pg_conftool "$VERSION" "$CLUSTER" set port "$PORT"
        CONFIG_CHANGED=1
    fi
    tmp="$(mktemp)"
    cat >"$tmp" <<'EOF'
# Written by tracesync's deploy/postgres/setup.sh; overwritten on every run.
# Loopback only; small memory footprint for a shared test machine. Durability stays on
# (fsync, synchronous_commit, full_page_writes keep their defaults): outage tests rely on it.
listen_addresses = '127.0.0.1'
shared_buffers = 64MB
# Several test sessions share the server, each with its own connection pools.
max_connections = 200
EOF
    mkdir -p "$conf_dir/conf.d"
    if ! cmp -s "$tmp" "$wanted"; then
        say "writing $wanted"
        install -m 0644 -o postgres -g postgres "$tmp" "$wanted"
        CONFIG_CHANGED=1
    fi
    rm -f "$tmp"
}

start_cluster() {
    # /var/run is a tmpfs on real machines; without systemd nobody recreates the socket folder.
    install -d -m 2775 -o postgres -g postgres /var/run/postgresql
    if [[ "$(cluster_status)" == online ]]; then
        if [[ -n "$CONFIG_CHANGED" ]]; then
            say "restarting cluster $VERSION/$CLUSTER to apply the changed settings"
            pg_ctlcluster "$VERSION" "$CLUSTER" restart
        else
            say "cluster $VERSION/$CLUSTER already running"
        fi
    else
        say "starting cluster $VERSION/$CLUSTER"
        pg_ctlcluster "$VERSION" "$CLUSTER" start
    fi
    local waited=0
    until pg_isready -q -h 127.0.0.1 -p "$PORT"; do
        ((waited++ < READY_TIMEOUT_S)) || die "server not ready on 127.0.0.1:$PORT after ${READY_TIMEOUT_S}s"
        sleep 1
    done
    say "accepting connections on 127.0.0.1:$PORT"
}

psql_admin() {  # psql as the postgres superuser over the local socket (peer authentication)
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@")
}

exists() {  # exists <catalog query with :'name'> <name>
    [[ "$(psql_admin -tA -v name="$2" <<<"$1")" == 1 ]]
}

ensure_role() {
    if exists "SELECT 1 FROM pg_roles WHERE rolname = :'name'" "$DB_USER"; then
        say "role $DB_USER exists; making sure of its password and rights"
    else
        say "creating role $DB_USER"
        psql_admin -v name="$DB_USER" <<<'CREATE ROLE :"name";'
    fi
    psql_admin -v name="$DB_USER" -v pw="$DB_PASSWORD" \
        <<<'ALTER ROLE :"name" WITH LOGIN CREATEDB NOSUPERUSER PASSWORD :'"'pw'"';'
}

ensure_database() {
    local name="$1"
    if exists "SELECT 1 FROM pg_database WHERE datname = :'name'" "$name"; then
        say "database $name exists"
        psql_admin -v name="$name" -v owner="$DB_USER" <<<'ALTER DATABASE :"name" OWNER TO :"owner";'
    else
        say "creating database $name owned by $DB_USER"
        psql_admin -v name="$name" -v owner="$DB_USER" \
            <<<'CREATE DATABASE :"name" OWNER :"owner" TEMPLATE template0 ENCODING '"'UTF8'"';'
    fi
}

check_login() {
    PGPASSWORD="$DB_PASSWORD" psql -X -q -tA -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d "$DB_NAME" \
        -c 'SELECT 1' >/dev/null || die "cannot log in as $DB_USER to $DB_NAME on 127.0.0.1:$PORT"
    say "ready: postgresql://$DB_USER@127.0.0.1:$PORT/$DB_NAME (and ${DB_NAME}_test)"
}

main() {
    [[ "$EUID" -eq 0 ]] || die "run as root (it installs packages and manages the cluster)"
    install_server
    VERSION="$(newest_installed_version)"
    [[ -n "$VERSION" ]] || die "no PostgreSQL server found under /usr/lib/postgresql after install"
    say "using PostgreSQL $VERSION"
    ensure_cluster
    configure_cluster
    start_cluster
    ensure_role
    ensure_database "$DB_NAME"
    ensure_database "${DB_NAME}_test"
    check_login
}

main "$@"
