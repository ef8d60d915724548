#!/bin/bash
# t_lifecycle: what a program run through `dpdkmp run` sees and how it ends: exit codes,
# signals both ways, stdio, environment, cwd, its name, its fds; what happens when the
# launcher or the primary dies; transparent and linked modes; 200 spawns without growth.
. "$(dirname "$0")/lib.sh"

PREFIX=$(unique_prefix life)
PROBE=$PROGS/probe_secondary
SEC=(-l 1 --no-pci --file-prefix "$PREFIX")



start_primary "$PREFIX" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$PREFIX" -m 64
if wait_primary_line "$PREFIX" '^PRIMARY READY' > /dev/null && wait_socket "$PREFIX"; then
	ok "primary ready with its fork server"
else
	not_ok "primary ready with its fork server"
	primary_output "$PREFIX" | diag_stream
	bail_out "no primary"
fi
ZYGOTE=$(zygote_pid "$PREFIX")

run_probe() { # args after -- ; sets OUT and RC
	OUT=$(timeout 60 "$DPDKMP" run -- "$PROBE" "${SEC[@]}" -- "$@" < /dev/null 2> "$TMPD/err")
	RC=$?
}

# --- exit status ---------------------------------------------------------------------------
for code in 0 3 42; do
	run_probe exit "$code"
	check "exit code $code passes through" [ "$RC" -eq "$code" ]
done
run_probe raise 11
check "killed by SIGSEGV -> 139" [ "$RC" -eq 139 ]
run_probe raise 9
check "killed by SIGKILL -> 137" [ "$RC" -eq 137 ]

# --- stdio, environment, cwd ------------------------------------------------------------
OUT=$(printf 'line one\nline two\n' | timeout 60 "$DPDKMP" run -- "$PROBE" "${SEC[@]}" -- echo 2>/dev/null)
check "stdin and stdout are the launcher's" [ "$OUT" = $'line one\nline two' ]
ERR=$(timeout 60 "$DPDKMP" run -- "$PROBE" "${SEC[@]}" -- nosuchaction 2>&1 >/dev/null)
check "stderr is the launcher's" grep -q "unknown action nosuchaction" <<< "$ERR"
OUT=$(DPDKMP_T_VAR='a b=c' timeout 60 "$DPDKMP" run -- "$PROBE" "${SEC[@]}" -- env DPDKMP_T_VAR 2>/dev/null)
check "environment is the launcher's" [ "$OUT" = "ENV DPDKMP_T_VAR=a b=c" ]
mkdir -p "$TMPD/work dir"
OUT=$(cd "$TMPD/work dir" && timeout 60 "$DPDKMP" run -- "$PROBE" "${SEC[@]}" -- cwd 2>/dev/null)
check "cwd is the launcher's" [ "$OUT" = "CWD $TMPD/work dir" ]

# --- signals, name ----------------------------------------------------------------------
# start_waiter: a probe blocked in pause(); sets LPID (launcher) and CPID (secondary).
start_waiter() {
	: > "$TMPD/wait.out"
	"$DPDKMP" run -- "$PROBE" "${SEC[@]}" -- wait > "$TMPD/wait.out" 2> "$TMPD/wait.err" &
	LPID=$!
	CPID=
	for _ in $(seq 100); do
		CPID=$(sed -n 's/^READY pid=//p' "$TMPD/wait.out")
		[ -n "$CPID" ] && return 0
		sleep 0.1
	done
	return 1
}
for sig in TERM INT USR1 HUP; do
	num=$(kill -l "$sig")
	if start_waiter; then
		kill -"$sig" "$LPID"
		wait "$LPID"
		RC=$?
		grep -qx "GOT $num" "$TMPD/wait.out" && [ "$RC" -eq 0 ]
		verdict "SIG$sig to the launcher reaches the secondary" $?
	else
		not_ok "SIG$sig to the launcher reaches the secondary"
		diag_stream < "$TMPD/wait.err"
		kill -KILL "$LPID" 2>/dev/null
	fi
done

if start_waiter; then
	check "comm is the secondary's name" [ "$(cat /proc/"$CPID"/comm)" = probe_secondary ]
	check "cmdline starts with the secondary's argv[0]" \
		[ "$(tr '\0' '\n' < /proc/"$CPID"/cmdline | head -1)" = "$PROBE" ]
	check "the secondary is a child of the zygote" \
		[ "$(awk '/^PPid:/ {print $2}' /proc/"$CPID"/status)" = "$ZYGOTE" ]
	JSON=$("$DPDKMP" status --file-prefix "$PREFIX" --json)
	check "status --json lists the secondary and its launcher" \
		grep -q "\"pid\":$CPID,\"program\":\"$PROBE\",\"launcher_pid\":$LPID" <<< "$JSON"
	# launcher dies without a word -> the secondary is terminated, reaped
	kill -KILL "$LPID"
	wait "$LPID" 2>/dev/null
	check "a killed launcher's secondary is terminated" wait_gone "$CPID" 10
	check "  and reaped (no zombie, status lists none)" \
		grep -q '"secondaries":\[\]' <<< "$("$DPDKMP" status --file-prefix "$PREFIX" --json)"
else
	for i in 1 2 3 4 5 6; do not_ok "waiter for name/launcher checks"; done
fi

# --- fds: nothing beyond stdio and what DPDK itself opens --------------------------------
norm() { grep -v '^FD [012] ' | sed -E 's/^FD [0-9]+ //; s/[0-9]+/N/g' | sort; }
run_probe fds
DP=$(norm <<< "$OUT")
OUT=$(timeout 60 "$PROBE" "${SEC[@]}" --proc-type=secondary -- fds 2>/dev/null 250>&-)
CL=$(norm <<< "$OUT")
EXTRA=$(comm -23 <(echo "$DP") <(echo "$CL"))
check "no fd in a dpdkmp secondary that a classic one lacks" [ -z "$EXTRA" ]
[ -n "$EXTRA" ] && diag "extra: $EXTRA"

# --- transparent and linked modes -------------------------------------------------------
OUT=$(LD_PRELOAD=$LIBDPDKMP timeout 60 "$PROBE" "${SEC[@]}" --proc-type=secondary -- exit 5 2> "$TMPD/err")
RC=$?
[ "$RC" -eq 5 ] && grep -q "exited with 5" <(primary_output "$PREFIX")
verdict "transparent secondary (LD_PRELOAD) runs in the fork server" $?
LD_PRELOAD=$LIBDPDKMP timeout 60 "$PROBE" "${SEC[@]}" --proc-type=auto -- exit 6 > /dev/null 2>&1
verdict "transparent --proc-type=auto hands off too" $(( $? != 6 ))
timeout 60 "$PROGS/probe_linked" "${SEC[@]}" --proc-type=secondary -- exit 8 > /dev/null 2>&1
verdict "a secondary linked with libdpdkmp hands off" $(( $? != 8 ))
check "  and was forked by the zygote" grep -q "exited with 8" <(primary_output "$PREFIX")

# --- 200 sequential spawns: no growth ---------------------------------------------------
# The zygote holds 3 fds per waiting pool child: count when the pool is full again.
pool_settle "$PREFIX"
fds_before=$(ls /proc/"$ZYGOTE"/fd | wc -l)
rss_before=$(awk '/^VmRSS:/ {print $2}' /proc/"$ZYGOTE"/status)
fails=0
for i in $(seq 200); do
	"$DPDKMP" run -- "$PROBE" "${SEC[@]}" --log-level=lib.eal:error -- exit 0 \
		< /dev/null > /dev/null 2>&1 || fails=$((fails + 1))
done
pool_settle "$PREFIX"
fds_after=$(ls /proc/"$ZYGOTE"/fd | wc -l)
rss_after=$(awk '/^VmRSS:/ {print $2}' /proc/"$ZYGOTE"/status)
zombies=$(ps -o stat= --ppid "$ZYGOTE" | grep -c '^Z')
check "200 sequential spawns succeed" [ "$fails" -eq 0 ]
check "  zygote fds unchanged ($fds_before -> $fds_after)" [ "$fds_before" -eq "$fds_after" ]
check "  zygote RSS grew < 512 KiB ($rss_before -> $rss_after KiB)" \
	[ $((rss_after - rss_before)) -lt 512 ]
check "  no zombie" [ "$zombies" -eq 0 ]

# --- the primary dies while a secondary runs ----------------------------------------------
if start_waiter; then
	kill -KILL "$(primary_pid "$PREFIX")"
	wait "$LPID"
	RC=$?
	check "primary killed: the secondary is terminated" wait_gone "$CPID" 10
	check "  its launcher reports it" grep -q "the primary (pid [0-9]*) exited" "$TMPD/wait.err"
	grep -qx "GOT 15" "$TMPD/wait.out" && [ "$RC" -eq 0 ]
	verdict "  and exits with the secondary's status ($RC: it caught SIGTERM)" $?
	check "  the zygote exits" wait_gone "$ZYGOTE" 10
	check "  its socket is removed" [ ! -e "$(runtime_dir "$PREFIX")/dpdkmp.sock" ]
else
	for i in 1 2 3 4 5; do not_ok "waiter for primary death"; done
fi

# --- the zygote itself is told to stop --------------------------------------------------
PREFIX=$(unique_prefix life2)
SEC=(-l 1 --no-pci --file-prefix "$PREFIX")
start_primary "$PREFIX" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$PREFIX" -m 64
if wait_primary_line "$PREFIX" '^PRIMARY READY' > /dev/null && wait_socket "$PREFIX" &&
	ZYGOTE=$(zygote_pid "$PREFIX") && start_waiter; then
	kill -TERM "$ZYGOTE"
	wait "$LPID"
	check "zygote stopped by SIGTERM: the secondary is terminated" wait_gone "$CPID" 10
	check "  its launcher says so" grep -q "fork server (zygote pid $ZYGOTE) was stopped" "$TMPD/wait.err"
	check "  the zygote exits, the primary keeps running" \
		eval 'wait_gone "$ZYGOTE" 10 && kill -0 "$(primary_pid "$PREFIX")"'
else
	for i in 1 2 3; do not_ok "second primary for the zygote stop"; done
fi

# --- a primary that executes itself as a secondary, as dpdk-test's multiprocess tests do ---
PREFIX=$(dpmp_prefix life3)
OUT=$(DPDKMP_LOG=info run_timeout 60 "$DPDKMP" primary -- "$PROBE" -l 0 --no-pci \
	--file-prefix="$PREFIX" -m 64 -- selfexec 2>&1)
grep -q "^SELFEXEC status=7$" <<< "$OUT" && grep -q "zygote.*spawned" <<< "$OUT"
result $? "self-exec'ed secondary (LD_PRELOAD inherited) is forked by the zygote" "$OUT"
cleanup_prefix "$PREFIX"
