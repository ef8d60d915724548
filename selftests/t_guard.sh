#!/bin/bash
# t_guard: the BPF guard watching real dpdkmp secondaries. With the guard loaded (policy kill),
# a secondary whose library constructor maps into a window, unmaps part of one or remaps into
# one while it loads is killed before its main runs, its launcher says why, and dpdkmp-trace
# shows the violation (table and JSON); a secondary that maps only outside, the DPDK example
# and dpdk-proc-info run without any violation; a helper process forked while loading is
# tracked (threads are not); under policy warn the violation is reported and nothing killed.
. "$(dirname "$0")/lib.sh"

HELPER=$BUILD/helper/dpdkmp-helper
TRACE=$BUILD/helper/dpdkmp-trace
VIOLATOR=$PROGS/violator

if [ -n "$(ls /sys/fs/bpf/dpdkmp 2>/dev/null)" ]; then
	bail_out "a dpdkmp guard is already loaded on this host; unload it first (dpdkmp-helper guard unload)"
fi
guard_unload() { "$HELPER" guard unload > /dev/null 2>&1; }
trap 'guard_unload; dpmp_exit_trap' EXIT

"$HELPER" guard load --policy kill > "$TMPD/load.log" 2>&1
result $? "guard load --policy kill" "$(cat "$TMPD/load.log")"
# Which hook set the kernel took: the mmap-lock set reports a window change at the process's
# next mmap lock, at RUN or at exit, and does not report EAL's mappings after loading.
HOOKS=$("$HELPER" guard status | sed -n 's/.*hooks: //p')
MMLOCK=0
[[ $HOOKS == mmap-lock* ]] && MMLOCK=1
diag "hooks: $HOOKS"

P=$(dpmp_prefix guard)
start_primary "$P" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$P" -m 64
wait_primary "$P" '^PRIMARY READY' && wait_socket "$P" || bail_out "no primary"
Z=$(zygote_pid "$P")
WIN=$("$DPDKMP" status --file-prefix "$P" --json |
	sed -n 's/.*"kind":"memseg","name":"[^"]*","start":"\(0x[0-9a-f]*\)".*/\1/p' | head -1)
check "the first memseg window is known ($WIN)" [ -n "$WIN" ]

# dpdkmp-trace in the background, JSON, for this prefix; and the table for one run below.
"$TRACE" --json --file-prefix "$P" > "$TMPD/trace.json" 2> "$TMPD/trace.err" &
TRACE_PID=$!
sleep 1
grep -q "\"snapshot\":true,\"event\":\"zygote\",\"pid\":$Z," "$TMPD/trace.json"
result $? "dpdkmp-trace shows the registered zygote $Z (startup snapshot)" "$(head -5 "$TMPD/trace.json")"

# violate ACTION: runs the violator through dpdkmp; sets RC, OUT, ERR, CPID (from the log).
violate() {
	OUT=$(VIOLATOR_ACTION=$1 VIOLATOR_ADDR=$WIN run_timeout 60 "$DPDKMP" run -- "$VIOLATOR" \
		-l 1 --no-pci --file-prefix "$P" 2> "$TMPD/v.err")
	RC=$?
	ERR=$(cat "$TMPD/v.err")
	CPID=$(sed -n 's/.*runs as pid \([0-9]*\).*/\1/p' "$TMPD/v.err" | tail -1)
	[ -n "$CPID" ] || CPID=$(grep "spawned $VIOLATOR as pid" "$(primary_log "$P")" |
		tail -1 | sed -n 's/.*as pid \([0-9]*\).*/\1/p')
}
json_has() { # PID VERDICT-REGEX: the trace has an event of PID with that verdict
	local i
	for ((i = 0; i < 30; i++)); do
		grep "\"pid\":$1[,}]" "$TMPD/trace.json" | grep -qE "\"verdict\":\"($2)\"" && return 0
		sleep 0.1
	done
	return 1
}

for act in map-fixed munmap mremap; do
	violate "$act"
	[ "$RC" -eq 137 ] && [[ $OUT != *"MAIN RAN"* ]] && [[ $ERR == *"killed (SIGKILL) while loading"* ]]
	result $? "$act in a window while loading: killed before main, the launcher says why (exit $RC)" "$ERR"
	json_has "$CPID" "KILLED|killed"
	result $? "  dpdkmp-trace --json reports it for pid $CPID" "$(grep "\"pid\":$CPID[,}]" "$TMPD/trace.json" | head -3)"
done

violate outside
[ "$RC" -eq 0 ] && [[ $OUT == *"MAIN RAN"* ]]
result $? "a secondary mapping only outside the windows runs (exit $RC)" "$ERR"
! json_has "$CPID" "VIOLATION|KILLED|violation|killed"
result $? "  and has no violation" "$(grep "\"pid\":$CPID[,}]" "$TMPD/trace.json" | head -5)"
if [ "$MMLOCK" = 1 ]; then
	skip "  its EAL's own mappings are reported as expected" "the mmap-lock hooks only check loading"
else
	json_has "$CPID" "expected|EXPECTED"
	result $? "  its EAL's own mappings into the windows after loading are reported as expected"
fi

# A helper process forked while loading is tracked: it is the one killed, its parent goes on.
violate fork-map-fixed
HELPER_PID=$(sed -n 's/^VIOLATOR helper \([0-9]*\): .*$/\1/p' <<< "$ERR")
if [ "$MMLOCK" = 1 ]; then
	# It exits right after its mapping, without taking its mmap lock again: reported at exit.
	[ "$RC" -eq 0 ] && [ -n "$HELPER_PID" ]
	result $? "a helper forked while loading that maps into a window is caught, its parent runs on" "$ERR"
else
	[ "$RC" -eq 0 ] && grep -q "^VIOLATOR helper $HELPER_PID: killed by signal 9$" <<< "$ERR"
	result $? "a helper forked while loading that maps into a window is killed, its parent runs on" "$ERR"
fi
json_has "$HELPER_PID" "KILLED|VIOLATION" &&
	grep "\"pid\":$HELPER_PID[,}]" "$TMPD/trace.json" | grep -q "\"ppid\":$CPID"
result $? "  dpdkmp-trace shows it as a descendant of the secondary" \
	"$(grep -E "\"pid\":($HELPER_PID|$CPID)[,}]" "$TMPD/trace.json" | head -6)"
SPAWNS=$(grep -E "\"event\":\"spawn\"" "$TMPD/trace.json" | grep -c "\"ppid\":$CPID[,}]")
[ "$SPAWNS" -eq 1 ]
result $? "  threads are not counted as processes (spawns under pid $CPID: $SPAWNS)"

# No false positives: a same-binary secondary, a different-binary one, the example's.
run_timeout 60 "$DPDKMP" run -- "$PROGS/hash_secondary" -l 1 --no-pci --file-prefix "$P" > /dev/null 2>&1
R1=$?
run_timeout 60 "$DPDKMP" run -- "$PROGS/hash_primary" -l 1 --no-pci --file-prefix "$P" > /dev/null 2>&1
R2=$?
[ "$R1" -eq 0 ] && [ "$R2" -eq 0 ]
result $? "hash_secondary and a same-binary secondary run under the guard ($R1, $R2)"

stop_primary "$P"
kill -INT "$TRACE_PID"
wait "$TRACE_PID"
result $? "dpdkmp-trace ends cleanly on SIGINT" "$(tail -3 "$TMPD/trace.err")"
N_VIOL=$(grep -ciE '"verdict":"(violation|killed)"' "$TMPD/trace.json")
[ "$N_VIOL" -eq 4 ]
result $? "exactly the 4 violating processes were reported ($N_VIOL)" \
	"$(grep -iE '"verdict":"(violation|killed)"' "$TMPD/trace.json")"

# The DPDK example under the guard: simple_mp, its secondary through dpdkmp (same binary).
P=$(dpmp_prefix guard_mp)
if build_example simple_mp > "$TMPD/build.log" 2>&1; then
	"$TRACE" --json --file-prefix "$P" > "$TMPD/trace3.json" 2> /dev/null &
	TRACE_PID=$!
	start_primary "$P" "$DPDKMP" primary -- "$(example_bin simple_mp)" -l 0 --no-pci \
		--proc-type=primary --file-prefix "$P"
	if wait_primary "$P" 'Finished Process Init' 60 && wait_socket "$P"; then
		echo quit | run_timeout 60 "$DPDKMP" run -- "$(example_bin simple_mp)" -l 1 --no-pci \
			--proc-type=secondary --file-prefix "$P" > "$TMPD/mp.out" 2>&1
		RC=$?
		stop_primary "$P"
		kill -INT "$TRACE_PID"
		wait "$TRACE_PID"
		[ "$RC" -eq 0 ] && grep -q '"event":"spawn"' "$TMPD/trace3.json" &&
			! grep -qiE '"verdict":"(violation|killed)"' "$TMPD/trace3.json"
		result $? "simple_mp's secondary runs under the guard, tracked, no violation (exit $RC)" \
			"$(tail -3 "$TMPD/mp.out")"
	else
		kill -INT "$TRACE_PID"
		not_ok "simple_mp under the guard: primary" "$(diag_file "$(primary_log "$P")")"
	fi
else
	not_ok "simple_mp builds" "$(tail -5 "$TMPD/build.log")"
fi

# testpmd + dpdk-proc-info under the guard: no violation.
P=$(dpmp_prefix guard_tp)
"$TRACE" --json --file-prefix "$P" > "$TMPD/trace2.json" 2> /dev/null &
TRACE_PID=$!
start_primary "$P" "$DPDKMP" primary -- dpdk-testpmd -l 0-1 --no-pci --vdev net_null0 \
	--vdev net_null1 --file-prefix "$P" -m 128 -- -i
if wait_primary "$P" 'testpmd> ' 60 && wait_socket "$P"; then
	send_primary "$P" start
	sleep 0.5
	run_timeout 60 "$DPDKMP" run -- dpdk-proc-info --no-pci --file-prefix "$P" -- --stats \
		> "$TMPD/pi.out" 2>&1
	RC=$?
	[ "$RC" -eq 0 ] && grep -q "RX-packets" "$TMPD/pi.out"
	result $? "dpdk-proc-info runs under the guard (exit $RC)" "$(tail -3 "$TMPD/pi.out")"
	stop_primary "$P"
else
	not_ok "testpmd under the guard"
fi
kill -INT "$TRACE_PID"
wait "$TRACE_PID"
! grep -qiE '"verdict":"(violation|killed)"' "$TMPD/trace2.json" &&
	{ [ "$MMLOCK" = 1 ] || grep -q '"verdict":"expected"' "$TMPD/trace2.json"; }
result $? "testpmd and dpdk-proc-info: no violation (and EAL's mappings expected, with per-call hooks)"

# Policy warn: reported, nothing killed; the table output names it.
guard_unload
"$HELPER" guard load --policy warn > "$TMPD/load.log" 2>&1
result $? "guard load --policy warn" "$(cat "$TMPD/load.log")"
P=$(dpmp_prefix guard_warn)
start_primary "$P" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci --file-prefix "$P" -m 64
wait_primary "$P" '^PRIMARY READY' && wait_socket "$P" || bail_out "no primary"
WIN=$("$DPDKMP" status --file-prefix "$P" --json |
	sed -n 's/.*"kind":"memseg","name":"[^"]*","start":"\(0x[0-9a-f]*\)".*/\1/p' | head -1)
"$TRACE" --file-prefix "$P" > "$TMPD/trace.txt" 2> /dev/null &
TRACE_PID=$!
sleep 1
violate map-fixed
sleep 0.5
kill -INT "$TRACE_PID"
wait "$TRACE_PID"
[ "$RC" -eq 0 ] && [[ $OUT == *"MAIN RAN"* ]]
result $? "policy warn: the violator is not killed (exit $RC)" "$ERR"
grep -E "^[0-9:.]+ +$CPID +" "$TMPD/trace.txt" | grep -q "VIOLATION"
result $? "  dpdkmp-trace's table shows its VIOLATION" "$(head -20 "$TMPD/trace.txt")"
stop_primary "$P"
guard_unload
check "guard unload leaves nothing pinned" [ -z "$(ls /sys/fs/bpf/dpdkmp 2>/dev/null)" ]
done_testing
