# selftests/lib.sh: sourced by the shell selftests (and scripts/demo). A small TAP harness and
# fixtures for real primaries and secondaries on real hugepages: background processes with stdin
# from a FIFO, bounded waits, and an EXIT trap that stops everything it started and removes the
# hugepage files and runtime directories of every prefix it used, even when a test fails.
#
# TAP:        plan N | ok NAME | not_ok NAME [DIAG...] | check NAME CMD... | skip NAME REASON
#             result RC NAME [DIAG...] | diag TEXT... | diag_file FILE [LINES] | bail_out REASON
#             done_testing (optional: at exit the plan defaults to the tests run, and the
#             status is non-zero when one failed)
# processes:  start_proc NAME TIMEOUT CMD...   (stdin: FIFO, output: $(proc_log NAME))
#             send_proc NAME TEXT | signal_proc NAME SIG | wait_proc NAME [SECS] (rc in PROC_RC)
#             stop_proc NAME [TEXT] | proc_alive NAME | proc_pid NAME | wait_log NAME REGEX [SECS]
# primaries:  dpmp_prefix NAME | start_primary PREFIX CMD... | wait_socket PREFIX [SECS]
#             wait_primary PREFIX REGEX [SECS] (application ready: a line in its log)
#             send_primary PREFIX TEXT | stop_primary PREFIX [TEXT] | cleanup_prefix PREFIX
# dpdkmp:     "${DPMP_PRIMARY[@]}" and "${DPMP_RUN[@]}" prefix a command to run it through
#             dpdkmp (empty when DPDKMP_CLASSIC=1, to develop tests without the CLI)
# misc:       build_example NAME | example_bin PROG | run_timeout SECS CMD...
#             pool_pids PREFIX | pool_settle PREFIX [N] | strace_family PREFIX (-p args:
#             zygote and pool children)
#             served_by_fork_server PREFIX LAUNCHER_PID
#             wait_gone PID [SECS] | zygote_pid PREFIX | status_field PREFIX FIELD
#             primary_pid PREFIX | runtime_dir PREFIX
#             $TMPD (scratch, removed at exit); aliases: unique_prefix, verdict NAME RC,
#             diag_stream (stdin as diagnostics), primary_output PREFIX, wait_primary_line
#
# Every background process gets SIGINT and SIGQUIT back to their default disposition (a
# non-interactive bash starts background jobs with them ignored, which a DPDK app inherits).

set -u

DPMP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRC:=$(cd "$DPMP_LIB_DIR/.." && pwd)}"
: "${BUILD:=$SRC/build}"
: "${DPDKMP:=$BUILD/helper/dpdkmp}"
: "${DPDKMP_CLASSIC:=0}"
: "${DPMP_HUGEDIR:=/dev/hugepages}"
: "${DPMP_RUNDIR:=/var/run/dpdk}"
: "${DPMP_SOCKET_TIMEOUT:=30}"
: "${DPDK_EXAMPLES:=/usr/share/dpdk/examples/multi_process}"

DPMP_TEST_NAME=$(basename "$0" .sh)
: "${DPMP_LOGDIR:=$BUILD/test-logs/$DPMP_TEST_NAME}"
mkdir -p "$DPMP_LOGDIR" 2>/dev/null || DPMP_LOGDIR=$(mktemp -d /tmp/dpmp-logs.XXXXXX)
DPMP_TMP=$(mktemp -d /tmp/dpmp-test.XXXXXX)

if [ "$DPDKMP_CLASSIC" = 1 ]; then
	DPMP_PRIMARY=()
	DPMP_RUN=()
else
	DPMP_PRIMARY=("$DPDKMP" primary --)
	DPMP_RUN=("$DPDKMP" run --)
fi

# ---------------------------------------------------------------- TAP
TAP_N=0
TAP_FAILED=0
TAP_PLANNED=0
TAP_DONE=0

plan() { TAP_PLANNED=$1; echo "1..$1"; }

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }

# not_ok NAME [DIAG...]: each DIAG becomes a diagnostic line.
not_ok()
{
	local name=$1
	shift
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $name"
	local d
	for d in "$@"; do diag "$d"; done
	return 0
}

# result RC NAME [DIAG...]: ok when RC is 0, else not ok with the diagnostics.
result()
{
	local rc=$1 name=$2
	shift 2
	if [ "$rc" -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}

# check NAME CMD...: ok when CMD succeeds.
check()
{
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP ${2:-no reason given}"; }

diag() { local l; while IFS= read -r l; do echo "# $l"; done <<<"$*"; }

# diag_file FILE [LINES]: the tail of a log as diagnostics (control characters removed).
diag_file()
{
	local f=$1 n=${2:-25}
	if [ -r "$f" ]; then
		echo "# ---- tail -n $n $f"
		tail -n "$n" "$f" | tr -d '\000-\010\013-\037' | sed 's/^/#   /'
	else
		echo "# ---- $f: missing"
	fi
}

bail_out() { echo "Bail out! $*"; exit 1; }

done_testing()
{
	TAP_DONE=1
	[ "$TAP_PLANNED" -eq 0 ] && echo "1..$TAP_N"
	if [ "$TAP_PLANNED" -ne 0 ] && [ "$TAP_PLANNED" -ne "$TAP_N" ]; then
		diag "planned $TAP_PLANNED tests but ran $TAP_N"
		exit 1
	fi
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}

# ---------------------------------------------------------------- processes
declare -A PROC_PID=() PROC_HOLDER=() PROC_DOG=() PROC_LOG=() PROC_FIFO=()
PROC_RC=0
DPMP_PREFIXES=()

proc_log() { echo "${PROC_LOG[$1]:-$DPMP_LOGDIR/$1.log}"; }
proc_pid() { echo "${PROC_PID[$1]:-}"; }

proc_alive()
{
	local pid=${PROC_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# start_proc NAME TIMEOUT CMD...: CMD in the background, its stdin a FIFO kept open by a holder
# (so an interactive app neither sees EOF nor blocks its writers), its stdout and stderr in
# $(proc_log NAME). A watchdog sends SIGTERM after TIMEOUT seconds and SIGKILL 5 s later. The
# PID is CMD's own (env execs it), so signals reach CMD, or the dpdkmp launcher, directly.
start_proc()
{
	local name=$1 timeout=$2
	shift 2
	local fifo=$DPMP_TMP/$name.in log=$DPMP_LOGDIR/$name.log

	if [ -n "${PROC_PID[$name]:-}" ]; then
		echo "start_proc: $name already started" >&2
		return 1
	fi
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	: >"$log"
	env --default-signal=INT,QUIT "$@" <"$fifo" >"$log" 2>&1 &
	PROC_PID[$name]=$!
	# O_RDWR on a FIFO never blocks; the holder is a reader and a writer at once.
	sleep 1000000 1<>"$fifo" &
	PROC_HOLDER[$name]=$!
	watchdog "${PROC_PID[$name]}" "$timeout" &
	PROC_DOG[$name]=$!
	PROC_LOG[$name]=$log
	PROC_FIFO[$name]=$fifo
	return 0
}

# watchdog PID SECS: bound a background process in time (runs in a subshell).
watchdog()
{
	local pid=$1 secs=$2 i
	trap 'exit 0' TERM
	for ((i = 0; i < secs * 2; i++)); do
		kill -0 "$pid" 2>/dev/null || exit 0
		sleep 0.5
	done
	echo "watchdog: pid $pid still running after ${secs}s, sending SIGTERM" >&2
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 10; i++)); do
		kill -0 "$pid" 2>/dev/null || exit 0
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null
	exit 0
}

send_proc()
{
	local fifo=${PROC_FIFO[$1]:-}
	[ -n "$fifo" ] || { echo "send_proc: no process $1" >&2; return 1; }
	# The holder keeps a reader, so this never blocks even when the process is gone.
	printf '%s\n' "$2" 1<>"$fifo"
}

signal_proc()
{
	local pid=${PROC_PID[$1]:-}
	[ -n "$pid" ] && kill -s "$2" "$pid" 2>/dev/null
}

# wait_proc NAME [SECS]: wait up to SECS (default 30) for NAME to exit; PROC_RC gets its exit
# status (128+N when killed by signal N). Returns 0 if it exited, 1 if it is still running.
wait_proc()
{
	local name=$1 secs=${2:-30} pid=${PROC_PID[$1]:-} i
	[ -n "$pid" ] || { PROC_RC=255; return 1; }
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 1
	wait "$pid" 2>/dev/null
	PROC_RC=$?
	release_proc "$name"
	return 0
}

# release_proc NAME: stop the helpers of an exited process and forget it.
release_proc()
{
	local name=$1 p
	for p in "${PROC_HOLDER[$name]:-}" "${PROC_DOG[$name]:-}"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	unset "PROC_PID[$name]" "PROC_HOLDER[$name]" "PROC_DOG[$name]"
	rm -f "${PROC_FIFO[$name]:-/nonexistent}"
}

# stop_proc NAME [TEXT]: write TEXT (if given) and wait 15 s, then SIGTERM and 10 s, then
# SIGKILL. PROC_RC gets the exit status of the process.
stop_proc()
{
	local name=$1 text=${2:-}
	[ -n "${PROC_PID[$name]:-}" ] || return 0
	if [ -n "$text" ]; then
		send_proc "$name" "$text"
		wait_proc "$name" 15 && return 0
	fi
	signal_proc "$name" TERM
	wait_proc "$name" 10 && return 0
	echo "stop_proc: $name (pid ${PROC_PID[$name]}) ignores SIGTERM, sending SIGKILL" >&2
	signal_proc "$name" KILL
	wait_proc "$name" 10
}

# wait_log NAME REGEX [SECS]: wait until the log of NAME matches REGEX (extended).
wait_log()
{
	local log=${PROC_LOG[$1]:-$DPMP_LOGDIR/$1.log} re=$2 secs=${3:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		grep -Eq -- "$re" "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# run_timeout SECS CMD...: CMD in the foreground, SIGTERM after SECS, SIGKILL 5 s later.
run_timeout()
{
	local secs=$1
	shift
	timeout -k 5 "$secs" "$@"
}

# ---------------------------------------------------------------- primaries
# dpmp_prefix NAME: a --file-prefix unique to this test run. It contains our PID, so the EXIT
# trap finds and removes it even when it was only computed in a subshell.
dpmp_prefix() { echo "dpmp_${1}_$$"; }

remember_prefix()
{
	local p
	for p in "${DPMP_PREFIXES[@]}"; do [ "$p" = "$1" ] && return 0; done
	DPMP_PREFIXES+=("$1")
}

# start_primary PREFIX CMD...: the primary in the background (stdin from a FIFO for
# interactive apps such as testpmd -i), log in $(primary_log PREFIX). CMD is the whole command
# line, e.g. start_primary "$P" "${DPMP_PRIMARY[@]}" dpdk-testpmd ... --file-prefix "$P" -- -i
# What an earlier run left under PREFIX is removed first, unless DPMP_KEEP_RUNDIR=1 (a test
# that puts leftovers there on purpose).
start_primary()
{
	local prefix=$1
	shift
	remember_prefix "$prefix"
	[ "${DPMP_KEEP_RUNDIR:-}" = 1 ] || cleanup_prefix "$prefix"
	start_proc "$prefix.primary" "${DPMP_PRIMARY_TIMEOUT:-900}" "$@"
}

primary_log() { proc_log "$1.primary"; }
send_primary() { send_proc "$1.primary" "$2"; }

socket_path()
{
	if [ "$DPDKMP_CLASSIC" = 1 ]; then
		echo "$DPMP_RUNDIR/$1/mp_socket"
	else
		echo "$DPMP_RUNDIR/$1/dpdkmp.sock"
	fi
}

# wait_socket PREFIX [SECS]: wait until the fork server of PREFIX listens (the primary's
# rte_eal_init has finished). Fails early, with the primary's log, if the primary exits.
wait_socket()
{
	local prefix=$1 secs=${2:-$DPMP_SOCKET_TIMEOUT} sock i
	sock=$(socket_path "$prefix")
	remember_prefix "$prefix"
	for ((i = 0; i < secs * 10; i++)); do
		[ -S "$sock" ] && return 0
		if [ -n "${PROC_PID[$prefix.primary]:-}" ] && ! proc_alive "$prefix.primary"; then
			wait_proc "$prefix.primary" 1
			diag "primary $prefix exited with status $PROC_RC before $sock appeared"
			diag_file "$(primary_log "$prefix")"
			return 1
		fi
		sleep 0.1
	done
	diag "no $sock after ${secs}s"
	diag_file "$(primary_log "$prefix")"
	return 1
}

# wait_primary PREFIX REGEX [SECS]: wait until the primary's log matches REGEX. The socket only
# says rte_eal_init returned; the application may still be creating its rings, mempools and
# ports, and a secondary that looks them up too early fails or crashes (symmetric_mp: SIGSEGV).
wait_primary()
{
	local prefix=$1 re=$2 secs=${3:-30}
	wait_log "$prefix.primary" "$re" "$secs" && return 0
	diag "primary $prefix: no /$re/ in its log after ${secs}s"
	diag_file "$(primary_log "$prefix")"
	return 1
}

# stop_primary PREFIX [TEXT]: TEXT (default "quit") on its stdin, then SIGINT (the examples
# stop on it), SIGTERM and SIGKILL with bounded waits. PROC_RC gets the primary's status.
stop_primary()
{
	local name=$1.primary text=${2-quit}
	PROC_RC=0
	[ -n "${PROC_PID[$name]:-}" ] || return 0
	if [ -n "$text" ]; then
		send_proc "$name" "$text"
		wait_proc "$name" 15 && return 0
	fi
	signal_proc "$name" INT
	wait_proc "$name" 10 && return 0
	stop_proc "$name"
}

# cleanup_prefix PREFIX: hugepage files and runtime directory of a stopped primary.
cleanup_prefix()
{
	local p=$1
	case $p in "" | */* | .*) return 1 ;; esac
	rm -f "$DPMP_HUGEDIR/${p}"map_* "$DPMP_HUGEDIR/${p}"[!0-9]* 2>/dev/null
	rm -rf "${DPMP_RUNDIR:?}/$p"
}

dpmp_exit_trap()
{
	local rc=$? name p
	trap - EXIT
	for name in "${!PROC_PID[@]}"; do
		[ -n "${PROC_PID[$name]:-}" ] && signal_proc "$name" TERM
	done
	for name in "${!PROC_PID[@]}"; do
		[ -n "${PROC_PID[$name]:-}" ] || continue
		wait_proc "$name" 10 || { signal_proc "$name" KILL; wait_proc "$name" 5; }
	done
	for p in "${DPMP_PREFIXES[@]}" $(cd "$DPMP_RUNDIR" 2>/dev/null && ls -d "dpmp_"*"_$$" 2>/dev/null); do
		cleanup_prefix "$p"
	done
	rm -rf "$DPMP_TMP"
	# A test that ends without done_testing: the plan is what ran, the status says if all passed.
	if [ "$TAP_DONE" -eq 0 ] && [ "$TAP_N" -gt 0 ]; then
		[ "$TAP_PLANNED" -eq 0 ] && echo "1..$TAP_N"
		[ "$TAP_FAILED" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
	fi
	exit "$rc"
}
trap dpmp_exit_trap EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---------------------------------------------------------------- more fixtures
TMPD=$DPMP_TMP # scratch directory of the test, removed at exit

unique_prefix() { dpmp_prefix "$@"; }
runtime_dir() { echo "$DPMP_RUNDIR/$1"; }
primary_output() { cat "$(primary_log "$1")" 2>/dev/null; }
primary_pid() { proc_pid "$1.primary"; }

# verdict NAME RC: like result, argument order of a test written as "cmd; verdict NAME $?".
verdict() { result "$2" "$1"; }

# diag_stream: stdin as diagnostics.
diag_stream() { sed 's/^/# /'; }

# wait_primary_line PREFIX REGEX [SECS]: wait_primary, printing the first matching line.
wait_primary_line()
{
	wait_log "$1.primary" "$2" "${3:-30}" || return 1
	grep -Em1 -- "$2" "$(primary_log "$1")"
}

# zygote_pid PREFIX: from `dpdkmp status --json`.
# status_field PREFIX FIELD: a number from `dpdkmp status --json` (zygote_pid, pool_waiting...)
status_field()
{
	local v
	v=$(run_timeout 10 "$DPDKMP" status --file-prefix "$1" --json 2>/dev/null |
		sed -n "s/.*\"$2\":\([0-9][0-9]*\).*/\1/p")
	[ -n "$v" ] && echo "$v"
}

zygote_pid() { status_field "$1" zygote_pid; }

# served_by_fork_server PREFIX LAUNCHER_PID: `dpdkmp status --json` lists a live secondary
# whose launcher is LAUNCHER_PID (the program really runs in the fork server, not directly).
# pool_pids PREFIX: the pre-forked children waiting in the zygote's pool (comm dpdkmp-pool)
pool_pids()
{
	local z
	z=$(zygote_pid "$1") || return 1
	ps -o pid=,comm= --ppid "$z" | awk '$2 == "dpdkmp-pool" { print $1 }'
}

# pool_settle PREFIX [N]: until N (default 2, DPDKMP_POOL's default) pool children wait, 10 s
# at most; the zygote holds 3 fds per waiting child, so fd counts compare only when it is full
pool_settle()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(pool_pids "$1" | wc -l)" -eq "${2:-2}" ] && return 0
		sleep 0.1
	done
	return 1
}

# strace_family PREFIX: "-p PID" for the zygote and its pool children, so that strace -f sees
# a secondary whether the zygote forks it or hands the request to a waiting pool child
strace_family()
{
	local p
	echo "-p $(zygote_pid "$1")"
	for p in $(pool_pids "$1"); do echo "-p $p"; done
}

served_by_fork_server()
{
	run_timeout 10 "$DPDKMP" status --file-prefix "$1" --json 2>/dev/null |
		grep -q "\"launcher_pid\":$2[,}]"
}

# wait_gone PID [SECS]: true once PID has exited (or is a zombie) within SECS.
wait_gone()
{
	local pid=$1 secs=${2:-10} i st
	for ((i = 0; i < secs * 10; i++)); do
		st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null) || return 0
		[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- DPDK examples
# build_example NAME: build /usr/share/dpdk/examples/multi_process/NAME from a copy in
# $BUILD/examples/NAME (never in /usr/share); make keeps it cached between runs.
build_example()
{
	local name=$1 dst=$BUILD/examples/$1 log=$DPMP_LOGDIR/build-$1.log
	if [ ! -d "$DPDK_EXAMPLES/$name" ]; then
		echo "build_example: no $DPDK_EXAMPLES/$name (install dpdk-doc)" >&2
		return 1
	fi
	mkdir -p "$BUILD/examples" || return 1
	(
		flock 9
		if [ ! -d "$dst" ]; then
			rm -rf "$dst.tmp" && cp -a "$DPDK_EXAMPLES/$name" "$dst.tmp" &&
				mv "$dst.tmp" "$dst"
		fi
		[ -d "$dst" ] && make -C "$dst" PKGCONF="${PKGCONF:-pkg-config}" >"$log" 2>&1
	) 9>"$BUILD/examples/.lock"
	local rc=$?
	[ $rc -eq 0 ] || { echo "build_example: building $name failed, see $log" >&2; tail -n 20 "$log" >&2; }
	return $rc
}

# example_bin PROG: path of a built example binary (mp_server and mp_client live in
# client_server_mp).
example_bin()
{
	case $1 in
	mp_server | mp_client) echo "$BUILD/examples/client_server_mp/$1/build/$1" ;;
	*) echo "$BUILD/examples/$1/build/$1" ;;
	esac
}
