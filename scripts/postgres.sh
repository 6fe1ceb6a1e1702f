#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the PostgreSQL store.
#
#   bash scripts/postgres.sh start DIR   # prints the server's URL on stdout
#   bash scripts/postgres.sh stop DIR
#
# `start` installs PostgreSQL from the Debian packages when it is missing (as root), creates a
# cluster in DIR (initdb), and starts it on 127.0.0.1 at a free port, with its socket in DIR and
# trust authentication for local connections only. `stop` stops it; DIR can then be deleted.
set -euo pipefail

action="${1:-}"
dir="${2:-}"
if [ -z "$action" ] || [ -z "$dir" ]; then
    echo "usage: bash scripts/postgres.sh start|stop DIR" >&2
    exit 2
fi

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# initdb and postgres refuse to run as root: run them as the packages' postgres user then.
as_owner() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    bin=$(find_bin)
    if [ -z "$bin" ]; then
        if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
            echo "PostgreSQL is not installed (apt-get install postgresql, as root)" >&2
            exit 1
        fi
        echo "installing PostgreSQL from the Debian packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >&2
        bin=$(find_bin)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = "0" ]; then
        chown postgres "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U alkd --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Enough connections for parallel processes; fsync off: a test server loses nothing it needs.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off -c full_page_writes=off" \
        start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://alkd@127.0.0.1:$port/postgres"
    ;;
stop)
    bin=$(find_bin)
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    ;;
*)
    echo "usage: bash scripts/postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
