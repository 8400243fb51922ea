# shellcheck shell=bash
# Shared functions of the local-stack scripts (deploy/local/up, down, test).
# Source it; it does not run anything by itself and sets no shell options
# (the calling script sets `set -euo pipefail`).

# Repository root: this file lives in <root>/deploy/local/.
# shellcheck disable=SC2034  # used by the scripts that source this file
CRM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# ---------------------------------------------------------------------------
# Output

log()  { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# Single-quote $1 for a shell (plain single quotes rather than printf %q's
# backslashes, so files like .crm/env stay readable by other tools too).
shell_quote() {
    local q="'\\''"
    printf "'%s'" "${1//\'/$q}"
}

is_root() { [[ ${EUID:-$(id -u)} -eq 0 ]]; }

# ---------------------------------------------------------------------------
# Toolchain and packages

# Put the Swift toolchain on PATH when it is installed at /opt/swift but the
# environment (e.g. CI's, which has no login profile) does not list it.
ensure_swift_on_path() {
    if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
}

require_swift() {
    ensure_swift_on_path
    command -v swift >/dev/null 2>&1 || die "swift not found on PATH (nor at /opt/swift/usr/bin)"
}

_crm_apt_updated=0

# apt-get as root, or through sudo when we are not root and sudo works
# without a password; otherwise say what to run and fail.
_apt_get() {
    if is_root; then
        DEBIAN_FRONTEND=noninteractive apt-get "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
    else
        die "need root to run: apt-get $*"
    fi
}

_apt_install() {
    if [[ $_crm_apt_updated -eq 0 ]]; then
        log "apt-get update"
        _apt_get update -q
        _crm_apt_updated=1
    fi
    log "apt-get install $*"
    _apt_get install -y -q --no-install-recommends "$@"
}

_pkg_installed() {
    # `dpkg -s` also succeeds for removed-but-not-purged packages, so check
    # the status line.
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

# Install the Debian packages the build, the tests and the stack need, only
# those that are missing. kcat is a convenience for poking at topics by hand:
# its absence is not an error.
ensure_packages() {
    command -v dpkg >/dev/null 2>&1 || { warn "no dpkg: not a Debian system, skipping package checks"; return 0; }

    local missing=() p
    for p in librdkafka-dev libpq-dev pkg-config; do
        _pkg_installed "$p" || missing+=("$p")
    done
    # Either the versioned server package or the metapackage will do.
    if ! _pkg_installed postgresql-15 && ! _pkg_installed postgresql; then
        missing+=(postgresql)
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        _apt_install "${missing[@]}"
    fi
    if ! _pkg_installed kcat; then
        if is_root || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
            _apt_install kcat || warn "could not install kcat (optional, only for manual testing)"
        else
            warn "kcat is not installed (optional, only for manual testing)"
        fi
    fi
}

# ---------------------------------------------------------------------------
# PostgreSQL

# Print the PostgreSQL server bin directory (the one holding initdb/pg_ctl).
# CRM_PG_BIN overrides the search.
pg_bin() {
    local d
    if [[ -n ${CRM_PG_BIN:-} ]]; then
        [[ -x $CRM_PG_BIN/pg_ctl ]] || die "CRM_PG_BIN=$CRM_PG_BIN has no pg_ctl"
        printf '%s\n' "$CRM_PG_BIN"; return 0
    fi
    if [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin; return 0
    fi
    # Any other installed major version, newest first.
    local found
    found="$(for d in /usr/lib/postgresql/*/bin; do
        if [[ -x $d/pg_ctl ]]; then printf '%s\n' "$d"; fi
    done | sort -V -r | head -n 1)"
    if [[ -n $found ]]; then printf '%s\n' "$found"; return 0; fi
    if command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"; return 0
    fi
    die "PostgreSQL server binaries not found (install postgresql-15, or set CRM_PG_BIN)"
}

# Run a command as the user that owns the PostgreSQL cluster: `postgres` when
# we are root (the server refuses to run as root), else ourselves. The
# command runs from / so that a working directory postgres cannot enter does
# not break initdb/pg_ctl (they resolve paths against it).
as_pg_user() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Same as as_pg_user, but print it as one shell command line (for
# CRM_TEST_PG_RESTART, which the tests run with /bin/sh -c).
as_pg_user_cmdline() {
    local q
    q="$(printf '%q ' "$@")"
    q="${q% }"
    if is_root; then
        printf 'cd / && runuser -u postgres -- %s\n' "$q"
    else
        printf '%s\n' "$q"
    fi
}

# Succeeds when the cluster owner can enter directory $1 (needs +x on every
# ancestor). Always true when not root: then we are the owner.
pg_user_can_reach() {
    if is_root; then
        runuser -u postgres -- test -x "$1" 2>/dev/null
    else
        return 0
    fi
}

# Create directory $1 (mode 700) owned by the cluster owner.
make_pg_owned_dir() {
    mkdir -p "$1"
    chmod 700 "$1"
    if is_root; then chown postgres:postgres "$1"; fi
}

# The command that restarts the cluster in $1; printed as one shell line.
# -l keeps the restarted server's output in its log file: without it the
# server would inherit (and hold open) the caller's stdout/stderr.
pg_restart_cmdline() {
    local datadir=$1
    as_pg_user_cmdline "$(pg_bin)/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 restart -m fast
}

_pg_running() {
    [[ -f $1/PG_VERSION ]] && as_pg_user "$(pg_bin)/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# start_postgres <datadir> <port> [throwaway]
# Initialise the cluster at <datadir> if it is new (trust auth, listening on
# 127.0.0.1 only, unix socket inside the data dir), start it with pg_ctl -w,
# and create the database `crm` if it is missing. With `throwaway` (test
# clusters, deleted afterwards), skip fsync in initdb and in the server: that
# only matters if the machine itself crashes, and saves seconds per run.
start_postgres() {
    local datadir=$1 port=$2 mode=${3:-} bin
    bin="$(pg_bin)"

    if _pg_running "$datadir"; then
        log "PostgreSQL already running in $datadir"
    else
        if [[ ! -f $datadir/PG_VERSION ]]; then
            log "initdb $datadir"
            make_pg_owned_dir "$datadir"
            # C.UTF-8: code-point sort order (stable, locale-independent) but
            # Unicode-aware lower()/upper()/ILIKE, which plain C lacks for
            # non-ASCII names.
            local locale=C
            if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=C.UTF-8; fi
            local nosync=()
            if [[ $mode == throwaway ]]; then nosync=(--no-sync); fi
            as_pg_user "$bin/initdb" -D "$datadir" -U postgres --auth=trust \
                --encoding=UTF8 --locale="$locale" --no-instructions "${nosync[@]}" >/dev/null \
                || die "initdb failed for $datadir"
            # Settings we own live in crm.conf, rewritten at every start (so a
            # changed port or a moved directory is picked up).
            printf "\ninclude_if_exists = 'crm.conf'\n" | as_pg_user tee -a "$datadir/postgresql.conf" >/dev/null
        fi

        # A unix socket path is limited to ~107 bytes; if the data dir is too
        # deep for that, go TCP-only (every client here uses 127.0.0.1).
        local sockdir=$datadir
        if (( ${#datadir} + 20 > 100 )); then sockdir=''; fi
        {
            echo "# Written by deploy/local/lib.sh at every start; edits are lost."
            echo "listen_addresses = '127.0.0.1'"
            echo "port = $port"
            echo "unix_socket_directories = '$sockdir'"
            echo "max_connections = 200"
            echo "timezone = 'UTC'"
            echo "log_timezone = 'UTC'"
            # crm-bench telephony reads when each row's transaction committed
            # (pg_xact_commit_timestamp) for exact latencies; a few bytes a commit.
            echo "track_commit_timestamp = on"
            if [[ $mode == throwaway ]]; then
                echo "fsync = off"
                echo "synchronous_commit = off"
                echo "full_page_writes = off"
            fi
        } | as_pg_user tee "$datadir/crm.conf" >/dev/null

        if port_in_use "$port"; then
            die "port $port on 127.0.0.1 is already in use (set another port)"
        fi
        log "starting PostgreSQL on 127.0.0.1:$port (data: $datadir)"
        if ! as_pg_user "$bin/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 start >/dev/null; then
            tail -n 30 "$datadir/server.log" >&2 || true
            die "PostgreSQL did not start (log: $datadir/server.log)"
        fi
    fi

    # The port the running server really uses (it may have been started
    # earlier with another one).
    local actual_port
    actual_port="$(pg_port "$datadir")"
    [[ -n $actual_port ]] || actual_port=$port
    if [[ $actual_port != "$port" ]]; then
        warn "PostgreSQL in $datadir runs on port $actual_port, not $port (restart it to change)"
    fi

    local psql=("$bin/psql" -X -q -h 127.0.0.1 -p "$actual_port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    if [[ "$("${psql[@]}" -tAc "select 1 from pg_database where datname = 'crm'")" != 1 ]]; then
        log "creating database crm"
        "${psql[@]}" -c 'create database crm' >/dev/null
    fi
}

# pg_port <datadir>: the port of the running server (line 4 of
# postmaster.pid); prints nothing when it is not running.
pg_port() {
    sed -n 4p "$1/postmaster.pid" 2>/dev/null || true
}

# stop_postgres <datadir>: fast shutdown (disconnects clients, no data loss);
# does nothing when the cluster does not exist or is not running.
stop_postgres() {
    local datadir=$1
    if ! _pg_running "$datadir"; then return 0; fi
    log "stopping PostgreSQL ($datadir)"
    as_pg_user "$(pg_bin)/pg_ctl" -D "$datadir" -w -t 60 stop -m fast >/dev/null \
        || as_pg_user "$(pg_bin)/pg_ctl" -D "$datadir" -w -t 30 stop -m immediate >/dev/null
}

# ---------------------------------------------------------------------------
# Network

# Succeeds when something listens on 127.0.0.1:<port>.
port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]
    else
        # Fallback: try to connect (a refused connection is immediate).
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

# Print a TCP port nobody listens on (random, 20000-49999). Another process
# could still take it before we bind it; callers fail clearly if so.
free_port() {
    local i port
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 30000))
        if ! port_in_use "$port"; then printf '%s\n' "$port"; return 0; fi
    done
    die "no free TCP port found"
}

# wait_http <url> <timeout-seconds>: succeed once <url> answers 2xx.
wait_http() {
    local url=$1 timeout=$2 deadline
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
        sleep 0.5
    done
    return 1
}

# ---------------------------------------------------------------------------
# Processes

# pid_alive <pidfile> <name>: succeed when the pid in <pidfile> is running
# and is <name> (guards against a recycled pid after a reboot or crash).
pid_alive() {
    local pidfile=$1 name=$2 pid
    [[ -f $pidfile ]] || return 1
    pid="$(<"$pidfile")"
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"
}

# ---------------------------------------------------------------------------
# Python tools (OpenAPI/AsyncAPI checks, the fuzz gate)

# ensure_python_venv: one virtualenv at .crm/venv with the pinned
# deploy/local/requirements.txt, reinstalled when that file changes; prints
# the venv's bin directory. Installs python3-venv on Debian when missing.
ensure_python_venv() {
    local venv="$CRM_ROOT/.crm/venv" requirements="$CRM_ROOT/deploy/local/requirements.txt" stamp
    stamp="$(sha256sum "$requirements" | cut -c1-16)"
    if [[ -x $venv/bin/python && "$(cat "$venv/.requirements-stamp" 2>/dev/null)" == "$stamp" ]]; then
        printf '%s\n' "$venv/bin"
        return 0
    fi
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
        _apt_install python3-venv >&2
    fi
    log "creating the Python tools venv in .crm/venv (deploy/local/requirements.txt)"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2 || die "python3 -m venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2 \
        || die "pip install -r $requirements failed"
    printf '%s\n' "$stamp" >"$venv/.requirements-stamp"
    printf '%s\n' "$venv/bin"
}
