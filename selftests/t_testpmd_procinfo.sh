#!/bin/bash
# t_testpmd_procinfo: the distro's own binaries, unmodified and stripped. dpdk-testpmd is the
# primary under `dpdkmp primary`, forwarding between two net_null ports; dpdk-proc-info runs as
# a secondary through `dpdkmp run` and must read the live counters; its exit status, including
# a failure, must come back through the launcher unchanged.
. "$(dirname "$0")/lib.sh"

P=$(dpmp_prefix procinfo)
EAL=(-l 0-1 --no-pci --file-prefix "$P")
PROCINFO=(dpdk-proc-info --no-pci --file-prefix "$P")

# port_counter FILE PORT FIELD: FIELD (e.g. RX-packets) of PORT from proc-info --stats output.
port_counter()
{
	awk -v hdr="NIC statistics for port $2 " -v f="$3:" '
		index($0, hdr) { inport = 1; next }
		inport && $1 == f { print $2; exit }' "$1"
}

plan 10

if ! command -v dpdk-testpmd >/dev/null || ! command -v dpdk-proc-info >/dev/null; then
	for i in $(seq 10); do skip "testpmd/proc-info test $i" "dpdk-testpmd or dpdk-proc-info missing (apt-get install dpdk)"; done
	exit 0
fi

start_primary "$P" "${DPMP_PRIMARY[@]}" dpdk-testpmd "${EAL[@]}" --vdev net_null0 \
	--vdev net_null1 -- -i --total-num-mbufs=4096
if ! wait_socket "$P" || ! wait_primary "$P" "testpmd> "; then
	not_ok "testpmd primary starts under dpdkmp and its fork server listens"
	for i in $(seq 9); do skip "procinfo test $((i + 1))" "no primary"; done
	exit 1
fi
ok "testpmd primary starts under dpdkmp and its fork server listens"

# testpmd's stdout is a file, so its answer to "start" stays buffered: give it time instead.
send_primary "$P" "start"
sleep 2

# 2: proc-info --stats through dpdkmp
out=$DPMP_LOGDIR/stats1.out
run_timeout 60 "${DPMP_RUN[@]}" "${PROCINFO[@]}" -- --stats >"$out" 2>&1
rc=$?
result $rc "dpdkmp run -- dpdk-proc-info --stats exits 0" "exit status $rc" \
	"$(diag_file "$out")"

# 3: it saw the live counters of port 0
rx1=$(port_counter "$out" 0 RX-packets)
if [ -n "$rx1" ] && [ "$rx1" -gt 0 ] 2>/dev/null; then
	ok "proc-info through dpdkmp shows RX-packets of port 0 ($rx1)"
else
	not_ok "proc-info through dpdkmp shows RX-packets of port 0" "RX-packets: '${rx1}'" \
		"$(diag_file "$out" 40)"
fi

# 4: a second secondary from the same fork server sees the counters moving
sleep 1
out2=$DPMP_LOGDIR/stats2.out
run_timeout 60 "${DPMP_RUN[@]}" "${PROCINFO[@]}" -- --stats >"$out2" 2>&1
rc=$?
rx2=$(port_counter "$out2" 0 RX-packets)
if [ $rc -eq 0 ] && [ -n "$rx2" ] && [ -n "$rx1" ] && [ "$rx2" -gt "$rx1" ] 2>/dev/null; then
	ok "a second proc-info sees RX-packets grow ($rx1 -> $rx2)"
else
	not_ok "a second proc-info sees RX-packets grow" "exit $rc, '$rx1' -> '$rx2'" \
		"$(diag_file "$out2")"
fi

# 5: extended stats
out=$DPMP_LOGDIR/xstats.out
run_timeout 60 "${DPMP_RUN[@]}" "${PROCINFO[@]}" -- --xstats >"$out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -Eq '^rx_good_packets: [1-9]' "$out"; then
	ok "proc-info --xstats through dpdkmp shows rx_good_packets"
else
	not_ok "proc-info --xstats through dpdkmp shows rx_good_packets" "exit status $rc" \
		"$(diag_file "$out")"
fi

# 6: a failing secondary's exit status passes through (proc-info exits 1 on a bad option)
out=$DPMP_LOGDIR/bogus-classic.out
run_timeout 60 "${PROCINFO[@]}" -- --no-such-option >"$out" 2>&1
classic_rc=$?
out=$DPMP_LOGDIR/bogus-dpdkmp.out
run_timeout 60 "${DPMP_RUN[@]}" "${PROCINFO[@]}" -- --no-such-option >"$out" 2>&1
rc=$?
if [ $classic_rc -ne 0 ] && [ $rc -eq $classic_rc ]; then
	ok "proc-info's failure status passes through dpdkmp ($rc, classic $classic_rc)"
else
	not_ok "proc-info's failure status passes through dpdkmp" \
		"dpdkmp run: $rc, classic: $classic_rc" "$(diag_file "$out")"
fi

# 7: stdout is the program's own (a pipe, not a file): proc-info writes into it
n=$(run_timeout 60 "${DPMP_RUN[@]}" "${PROCINFO[@]}" -- --stats 2>/dev/null | grep -c 'NIC statistics for port')
if [ "$n" = 2 ]; then
	ok "proc-info through dpdkmp writes to a pipe on stdout (2 ports)"
else
	not_ok "proc-info through dpdkmp writes to a pipe on stdout" "found '$n' port sections"
fi

# 8: a classic secondary still works beside the fork server
out=$DPMP_LOGDIR/stats-classic.out
run_timeout 60 "${PROCINFO[@]}" -- --stats >"$out" 2>&1
rc=$?
rxc=$(port_counter "$out" 0 RX-packets)
if [ $rc -eq 0 ] && [ -n "$rxc" ] && [ "$rxc" -gt 0 ] 2>/dev/null; then
	ok "classic dpdk-proc-info (without dpdkmp) beside the fork server ($rxc)"
else
	not_ok "classic dpdk-proc-info (without dpdkmp) beside the fork server" "exit $rc" \
		"$(diag_file "$out")"
fi

# 9: testpmd still forwards after the secondaries left, and quits cleanly
send_primary "$P" "show port stats 0"
sleep 1
if proc_alive "$P.primary"; then
	ok "testpmd primary survives the secondaries"
else
	not_ok "testpmd primary survives the secondaries" "$(diag_file "$(primary_log "$P")")"
fi

stop_primary "$P" quit
rc=$PROC_RC
result $rc "testpmd primary quits with status 0" "exit status $rc" \
	"$(diag_file "$(primary_log "$P")")"
cleanup_prefix "$P"
done_testing
