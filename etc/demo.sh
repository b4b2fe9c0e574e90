#!/bin/sh
# make demo / make demo-stop: a whole peerchat on this machine, to try at once.
#
#   sh etc/demo.sh start BUILD_DIR   starts an indexd and two peerds (alice and
#                                    天涯) on loopback, on ports the system picks
#                                    and sockets, databases and identity keys
#                                    under BUILD_DIR/demo, and a tmux
#                                    session "peerchat-demo" with a conversation
#                                    and a roster window for each; attaches to it
#                                    on a terminal, else says how to
#   sh etc/demo.sh stop BUILD_DIR    ends all of that, and nothing else
#
# The tmux session lives on its own tmux server (tmux -L peerchat-demo), so
# stopping it never touches your other tmux sessions.
set -eu

usage() {
    echo "usage: sh etc/demo.sh start|stop BUILD_DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
action=$1
build=$2

SESSION=peerchat-demo
ALICE=alice
TIANYA=天涯

if [ ! -d "$build" ]; then
    echo "demo: no build directory $build; run make first" >&2
    exit 1
fi
BUILD=$(cd "$build" && pwd)
BIN=$BUILD/bin
RUN=$BUILD/demo

demo_tmux() {
    tmux -u -L "$SESSION" -f /dev/null "$@"
}

# True when PIDFILE names a live process running PROGRAM from this build.
is_ours() {
    [ -f "$1" ] || return 1
    pid=$(cat "$1")
    case $(ps -p "$pid" -o args= 2>/dev/null) in
        "$BIN/$2 "*) return 0 ;;
    esac
    return 1
}

# The run directory of the demo the tmux session belongs to, if one runs.
session_owner() {
    demo_tmux show-environment -t "$SESSION" PEERCHAT_DEMO_RUN 2>/dev/null | sed -n 's/^PEERCHAT_DEMO_RUN=//p'
}

all_running() {
    [ "$(session_owner)" = "$RUN" ] &&
        is_ours "$RUN/indexd.pid" indexd &&
        is_ours "$RUN/alice.pid" peerd &&
        is_ours "$RUN/tianya.pid" peerd
}

# Ends the process in PIDFILE if it is PROGRAM from this build: SIGTERM (peerd
# logs out), then SIGKILL if it is still there after 5 s.
stop_daemon() {
    if is_ours "$1" "$2"; then
        pid=$(cat "$1")
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "demo: $2 (pid $pid) did not stop on SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$1"
}

stop_all() {
    if [ "$(session_owner)" = "$RUN" ]; then
        # tmux leaves its socket behind when the server is killed.
        socket=$(demo_tmux display-message -p '#{socket_path}' 2>/dev/null || true)
        demo_tmux kill-server 2>/dev/null || true
        if [ -n "$socket" ]; then
            rm -f "$socket"
        fi
    fi
    stop_daemon "$RUN/tianya.pid" peerd
    stop_daemon "$RUN/alice.pid" peerd
    stop_daemon "$RUN/indexd.pid" indexd
    rm -f "$RUN/alice.sock" "$RUN/tianya.sock"
}

# Waits for the readiness line of the daemon logging to LOG (pid in PIDFILE).
# Waits until the log LOG of the daemon NAME (pid in PIDFILE) holds PATTERN,
# which says it did WHAT: false, with the log shown, when it stopped or took
# longer than 10 s.
wait_for() {
    log=$1
    pidfile=$2
    name=$3
    pattern=$4
    what=$5
    i=0
    while [ $i -lt 100 ]; do
        if grep -q "$pattern" "$log" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "demo: $name stopped while starting; its log ($log):" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "demo: $name did not $what within 10 s; see $log" >&2
    return 1
}

wait_ready() {
    wait_for "$1" "$2" "$3" " ready " "get ready"
}

# indexd drops a contact request for a name nobody has logged in under yet,
# so the two ask each other only once both are logged in.
wait_logged_in() {
    wait_for "$1" "$2" "$3" " welcomed " "log in to indexd"
}

# Starts PROGRAM ARGS... in the background, immune to the terminal's hang-up,
# logging to RUN/NAME.log with its pid in RUN/NAME.pid.
start_daemon() {
    name=$1
    shift
    nohup "$@" >"$RUN/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
}

# Asks, through the peerd listening on SOCKET, NAME to be a contact.
ask() {
    printf '{"op":"add","peer":"%s","text":"hi, this is the demo"}\n' "$2" |
        socat -t 1 - "UNIX-CONNECT:$1" >/dev/null 2>&1 || echo "demo: could not ask $2 to be a contact" >&2
}

how_to_attach() {
    echo "  attach:  tmux -L $SESSION attach -t $SESSION"
    echo "  stop:    make demo-stop"
}

attach_or_explain() {
    if [ -t 0 ] && [ -t 1 ]; then
        if [ -n "${TMUX:-}" ]; then
            echo "demo: you are inside tmux; from another terminal run:"
            how_to_attach
        else
            exec tmux -u -L "$SESSION" attach -t "$SESSION"
        fi
    else
        echo "demo: no terminal here; from a terminal run:"
        how_to_attach
    fi
}

start() {
    for program in indexd peerd chatui; do
        if [ ! -x "$BIN/$program" ]; then
            echo "demo: $BIN/$program is missing; run make first" >&2
            exit 1
        fi
    done
    if ! command -v tmux >/dev/null 2>&1; then
        echo "demo: tmux is not installed; run make deps" >&2
        exit 1
    fi

    owner=$(session_owner)
    if [ -n "$owner" ] && [ "$owner" != "$RUN" ]; then
        echo "demo: the demo of ${owner%/demo} is running; stop it first with: make demo-stop BUILD_DIR=${owner%/demo}" >&2
        exit 1
    fi
    if all_running; then
        echo "demo: already running (logs and sockets in $RUN)"
        attach_or_explain
        return
    fi
    # Whatever is left of an earlier demo goes before the new one starts.
    stop_all

    mkdir -p "$RUN"
    chmod 700 "$RUN"
    trap 'stop_all' EXIT

    start_daemon indexd "$BIN/indexd" --port 0 --bind 127.0.0.1 --key "$RUN/indexd.key" --database "$RUN/indexd.db"
    wait_ready "$RUN/indexd.log" "$RUN/indexd.pid" indexd
    index=$(sed -n 's/.*indexd ready udp=\([^ ]*\).*/\1/p' "$RUN/indexd.log" | head -n 1)

    start_daemon alice "$BIN/peerd" --user "$ALICE" --index "$index" --port 0 --bind 127.0.0.1 \
        --socket "$RUN/alice.sock" --database "$RUN/alice.db" --key "$RUN/alice.key"
    start_daemon tianya "$BIN/peerd" --user "$TIANYA" --index "$index" --port 0 --bind 127.0.0.1 \
        --socket "$RUN/tianya.sock" --database "$RUN/tianya.db" --key "$RUN/tianya.key"
    wait_logged_in "$RUN/alice.log" "$RUN/alice.pid" "peerd for $ALICE"
    wait_logged_in "$RUN/tianya.log" "$RUN/tianya.pid" "peerd for $TIANYA"
    # The two ask each other to be contacts: requests that cross make contacts
    # at once (on a demo that ran before, they are contacts already).
    ask "$RUN/alice.sock" "$TIANYA"
    ask "$RUN/tianya.sock" "$ALICE"

    # Window "chat": alice's conversation above, 天涯's below; type in either.
    demo_tmux new-session -d -s "$SESSION" -n chat -- "$BIN/chatui" --socket "$RUN/alice.sock" "$TIANYA"
    demo_tmux set-environment -t "$SESSION" PEERCHAT_DEMO_RUN "$RUN"
    demo_tmux split-window -v -t "$SESSION:chat" -- "$BIN/chatui" --socket "$RUN/tianya.sock" "$ALICE"
    # Window "rosters": who is online for each, with unread counts.
    demo_tmux new-window -d -t "$SESSION" -n rosters -- "$BIN/chatui" --socket "$RUN/alice.sock"
    demo_tmux split-window -h -t "$SESSION:rosters" -- "$BIN/chatui" --socket "$RUN/tianya.sock"
    # Window "logs": what the daemons say.
    demo_tmux new-window -d -t "$SESSION" -n logs -- tail -n 50 -F "$RUN/indexd.log" "$RUN/alice.log" "$RUN/tianya.log"
    demo_tmux set-option -g mouse on
    demo_tmux set-option -g status-right-length 80
    demo_tmux set-option -g status-right " C-b n next window  C-b o other pane  C-b d detach  make demo-stop "
    demo_tmux select-pane -t "$SESSION:chat.0"
    trap - EXIT

    echo "demo: indexd at $index; peerds for $ALICE and $TIANYA; logs and sockets in $RUN"
    attach_or_explain
}

case $action in
    start)
        start
        ;;
    stop)
        owner=$(session_owner)
        if [ "$owner" = "$RUN" ] || is_ours "$RUN/indexd.pid" indexd || is_ours "$RUN/alice.pid" peerd ||
            is_ours "$RUN/tianya.pid" peerd; then
            stop_all
            echo "demo: stopped"
        else
            rm -f "$RUN"/*.pid
            echo "demo: not running"
        fi
        if [ -n "$owner" ] && [ "$owner" != "$RUN" ]; then
            echo "demo: the demo of ${owner%/demo} still runs; stop it with: make demo-stop BUILD_DIR=${owner%/demo}"
        fi
        ;;
    *)
        usage
        ;;
esac
