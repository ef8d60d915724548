#!/bin/bash
# t_examples: DPDK's own multi-process examples (simple_mp, symmetric_mp, client_server_mp),
# built from the Debian dpdk-doc sources. Each primary runs under `dpdkmp primary`; each
# secondary runs once through `dpdkmp run` (bounded in time, stopped through the launcher's PID)
# and once as a classic secondary, which shows the example itself works on this host.
. "$(dirname "$0")/lib.sh"

# skip_rest REASON NAME...: one skipped test per NAME.
skip_rest()
{
	local reason=$1 n
	shift
	for n in "$@"; do skip "$n" "$reason"; done
}

# start_example_primary EXAMPLE PREFIX CMD...: start, wait for the fork server and for the
# example's own "Finished Process Init." (its rings, pools and ports exist); one TAP line.
start_example_primary()
{
	local ex=$1 prefix=$2
	shift 2
	start_primary "$prefix" "${DPMP_PRIMARY[@]}" "$@"
	if wait_socket "$prefix" && wait_primary "$prefix" "Finished Process Init"; then
		ok "$ex: primary starts under dpdkmp primary and its fork server listens"
		return 0
	fi
	not_ok "$ex: primary starts under dpdkmp primary and its fork server listens"
	stop_primary "$prefix" ""
	cleanup_prefix "$prefix"
	return 1
}

# MODE names the way a secondary is started: "dpdkmp" (through the launcher) or "classic".
mode_cmd()
{
	if [ "$1" = dpdkmp ]; then MODE_CMD=("${DPMP_RUN[@]}"); else MODE_CMD=(); fi
}

# check_served EXAMPLE MODE PREFIX NAME: for the dpdkmp mode, one TAP line saying the running
# secondary was forked by the fork server for our launcher (not run directly).
check_served()
{
	local ex=$1 mode=$2 prefix=$3 name=$4 pid
	[ "$mode" = dpdkmp ] || return 0
	pid=$(proc_pid "$name")
	if [ "$DPDKMP_CLASSIC" = 1 ]; then
		skip "$ex: dpdkmp secondary is served by the fork server" "DPDKMP_CLASSIC=1"
	elif served_by_fork_server "$prefix" "$pid"; then
		ok "$ex: dpdkmp secondary is served by the fork server (status lists launcher $pid)"
	else
		not_ok "$ex: dpdkmp secondary is served by the fork server" \
			"$("$DPDKMP" status --file-prefix "$prefix" 2>&1)"
	fi
}

# ------------------------------------------------------------------ simple_mp
# Interactive on both sides: "send TEXT" in one process makes the other print "Received 'TEXT'"
# (from its worker lcore, to a buffered stdout: visible once the process has quit).
simple_secondary()
{
	local mode=$1 prefix=$2 bin=$3 name=simple_mp.$1
	mode_cmd "$mode"
	start_proc "$name" 60 "${MODE_CMD[@]}" "$bin" -l 0-1 --no-pci --proc-type=secondary \
		--file-prefix "$prefix"
	if wait_log "$name" "Finished Process Init" 30; then
		ok "simple_mp: $mode secondary initialises"
	else
		not_ok "simple_mp: $mode secondary initialises" "$(diag_file "$(proc_log "$name")")"
	fi
	check_served simple_mp "$mode" "$prefix" "$name"
	send_primary "$prefix" "send to_${mode}_secondary"
	send_proc "$name" "send from_${mode}_secondary"
	sleep 1
	stop_proc "$name" quit
	local rc=$PROC_RC
	result $rc "simple_mp: $mode secondary quits on 'quit' with status 0" "exit status $rc" \
		"$(diag_file "$(proc_log "$name")")"
	if grep -q "Received 'to_${mode}_secondary'" "$(proc_log "$name")"; then
		ok "simple_mp: $mode secondary received the primary's message"
	else
		not_ok "simple_mp: $mode secondary received the primary's message" \
			"$(diag_file "$(proc_log "$name")")"
	fi
}

test_simple_mp()
{
	local P bin rc m
	P=$(dpmp_prefix simple)
	local rest=()
	for m in dpdkmp classic; do
		rest+=("simple_mp: $m secondary initialises" "simple_mp: $m secondary quits with status 0"
			"simple_mp: $m secondary received the primary's message"
			"simple_mp: primary received the $m secondary's message")
	done
	rest+=("simple_mp: primary quits with status 0")

	if ! build_example simple_mp >"$DPMP_LOGDIR/build-simple_mp.err" 2>&1; then
		not_ok "simple_mp: builds from $DPDK_EXAMPLES" "$(diag_file "$DPMP_LOGDIR/build-simple_mp.log")"
		skip_rest "example did not build" "simple_mp: primary starts" "${rest[@]}"
		return
	fi
	ok "simple_mp: builds from $DPDK_EXAMPLES"
	bin=$(example_bin simple_mp)
	start_example_primary simple_mp "$P" "$bin" -l 0-1 --no-pci --proc-type=primary \
		--file-prefix "$P" || { skip_rest "no primary" "${rest[@]}"; return; }

	simple_secondary dpdkmp "$P" "$bin"
	simple_secondary classic "$P" "$bin"

	stop_primary "$P" quit
	rc=$PROC_RC
	for m in dpdkmp classic; do
		if grep -q "Received 'from_${m}_secondary'" "$(primary_log "$P")"; then
			ok "simple_mp: primary received the $m secondary's message"
		else
			not_ok "simple_mp: primary received the $m secondary's message" \
				"$(diag_file "$(primary_log "$P")")"
		fi
	done
	result $rc "simple_mp: primary quits with status 0" "exit status $rc" \
		"$(diag_file "$(primary_log "$P")")"
	cleanup_prefix "$P"
}

# ------------------------------------------------------------------ symmetric_mp
# Each process forwards its own queue of both ports; SIGINT makes it print its port counters
# ("Port 0: RX - n, TX - n, Drop - n") and exit(0).
sym_rx()
{
	sed -n 's/^Port 0: RX - \([0-9]*\),.*/\1/p' "$1" | tail -n 1
}

sym_secondary()
{
	local mode=$1 prefix=$2 bin=$3 name=symmetric_mp.$1 rc rx pid
	mode_cmd "$mode"
	start_proc "$name" 60 "${MODE_CMD[@]}" "$bin" -l 1 --no-pci --proc-type=secondary \
		--file-prefix "$prefix" -- -p 3 --num-procs=2 --proc-id=1
	wait_log "$name" "Finished Process Init" 30 || diag "symmetric_mp: $mode secondary not initialised after 30 s"
	check_served symmetric_mp "$mode" "$prefix" "$name"
	sleep 2
	pid=$(proc_pid "$name")
	signal_proc "$name" INT
	wait_proc "$name" 15 || stop_proc "$name"
	rc=$PROC_RC
	result $rc "symmetric_mp: $mode secondary exits 0 on SIGINT (sent to pid $pid)" \
		"exit status $rc" "$(diag_file "$(proc_log "$name")")"
	rx=$(sym_rx "$(proc_log "$name")")
	if [ -n "$rx" ] && [ "$rx" -gt 0 ]; then
		ok "symmetric_mp: $mode secondary forwarded packets (port 0 RX $rx)"
	else
		not_ok "symmetric_mp: $mode secondary forwarded packets" "port 0 RX '$rx'" \
			"$(diag_file "$(proc_log "$name")")"
	fi
}

test_symmetric_mp()
{
	local P bin rc rx m
	P=$(dpmp_prefix symmetric)
	local rest=()
	for m in dpdkmp classic; do
		rest+=("symmetric_mp: $m secondary exits 0 on SIGINT" "symmetric_mp: $m secondary forwarded packets")
	done
	rest+=("symmetric_mp: primary forwarded packets and exits 0 on SIGINT")

	if ! build_example symmetric_mp >"$DPMP_LOGDIR/build-symmetric_mp.err" 2>&1; then
		not_ok "symmetric_mp: builds from $DPDK_EXAMPLES" "$(diag_file "$DPMP_LOGDIR/build-symmetric_mp.log")"
		skip_rest "example did not build" "symmetric_mp: primary starts" "${rest[@]}"
		return
	fi
	ok "symmetric_mp: builds from $DPDK_EXAMPLES"
	bin=$(example_bin symmetric_mp)
	start_example_primary symmetric_mp "$P" "$bin" -l 0 --no-pci --vdev net_null0 \
		--vdev net_null1 --file-prefix "$P" -- -p 3 --num-procs=2 --proc-id=0 ||
		{ skip_rest "no primary" "${rest[@]}"; return; }

	sym_secondary dpdkmp "$P" "$bin"
	sym_secondary classic "$P" "$bin"

	stop_primary "$P" ""
	rc=$PROC_RC
	rx=$(sym_rx "$(primary_log "$P")")
	if [ $rc -eq 0 ] && [ -n "$rx" ] && [ "$rx" -gt 0 ]; then
		ok "symmetric_mp: primary forwarded packets and exits 0 on SIGINT (port 0 RX $rx)"
	else
		not_ok "symmetric_mp: primary forwarded packets and exits 0 on SIGINT" \
			"exit status $rc, port 0 RX '$rx'" "$(diag_file "$(primary_log "$P")")"
	fi
	cleanup_prefix "$P"
}

# ------------------------------------------------------------------ client_server_mp
# mp_server receives on both ports and hands packets to the clients' rings; mp_client sends them
# out again. The client has no SIGINT handler: it dies of the signal (status 130). The server
# prints its stats to a buffered stdout, so each client's work is measured on the ports' TX
# counters (only clients transmit), read by a classic dpdk-proc-info.
port_tx_total()
{
	local prefix=$1 out=$DPMP_LOGDIR/cs-procinfo.out
	run_timeout 30 dpdk-proc-info --no-pci --file-prefix "$prefix" -- --stats >"$out" 2>&1 || return 1
	awk '/NIC statistics for port/ { inport = 1 } inport && $1 == "TX-packets:" { s += $2; inport = 0 }
		END { print s + 0 }' "$out"
}

cs_client()
{
	local mode=$1 prefix=$2 bin=$3 name=mp_client.$1 rc before after
	mode_cmd "$mode"
	before=$(port_tx_total "$prefix") || before=
	start_proc "$name" 60 "${MODE_CMD[@]}" "$bin" -l 1 --no-pci --proc-type=secondary \
		--file-prefix "$prefix" -- -n 0
	wait_log "$name" "Finished Process Init" 30 || diag "mp_client: $mode client not initialised after 30 s"
	check_served client_server_mp "$mode" "$prefix" "$name"
	sleep 2
	signal_proc "$name" INT
	wait_proc "$name" 15 || stop_proc "$name"
	rc=$PROC_RC
	if [ $rc -eq 130 ]; then
		ok "client_server_mp: $mode mp_client dies of SIGINT (status 130)"
	else
		not_ok "client_server_mp: $mode mp_client dies of SIGINT (status 130)" "exit status $rc" \
			"$(diag_file "$(proc_log "$name")")"
	fi
	after=$(port_tx_total "$prefix") || after=
	if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ]; then
		ok "client_server_mp: $mode mp_client forwarded packets (port TX $before -> $after)"
	else
		not_ok "client_server_mp: $mode mp_client forwarded packets" \
			"port TX '$before' -> '$after'" "$(diag_file "$DPMP_LOGDIR/cs-procinfo.out" 10)" \
			"$(diag_file "$(proc_log "$name")")"
	fi
}

test_client_server_mp()
{
	local P server client rc tx m
	P=$(dpmp_prefix clisrv)
	local rest=()
	for m in dpdkmp classic; do
		rest+=("client_server_mp: $m mp_client dies of SIGINT" "client_server_mp: $m mp_client forwarded packets")
	done
	rest+=("client_server_mp: server saw client 0 transmit and exits 0 on SIGINT")

	if ! build_example client_server_mp >"$DPMP_LOGDIR/build-client_server_mp.err" 2>&1; then
		not_ok "client_server_mp: builds from $DPDK_EXAMPLES" "$(diag_file "$DPMP_LOGDIR/build-client_server_mp.log")"
		skip_rest "example did not build" "client_server_mp: server starts" "${rest[@]}"
		return
	fi
	ok "client_server_mp: builds from $DPDK_EXAMPLES"
	server=$(example_bin mp_server)
	client=$(example_bin mp_client)
	# Two lcores: mp_server prints its stats from a worker lcore only.
	start_example_primary client_server_mp "$P" "$server" -l 0-1 --no-pci --vdev net_null0 \
		--vdev net_null1 --file-prefix "$P" -- -p 3 -n 1 ||
		{ skip_rest "no primary" "${rest[@]}"; return; }

	cs_client dpdkmp "$P" "$client"
	cs_client classic "$P" "$client"

	stop_primary "$P" ""
	rc=$PROC_RC
	tx=$(tr -d '\033' <"$(primary_log "$P")" | grep -A1 '^Client  0 - rx' | sed -n 's/^ *tx: *\([0-9]*\),.*/\1/p' | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$tx" ] && [ "$tx" -gt 0 ]; then
		ok "client_server_mp: server saw client 0 transmit and exits 0 on SIGINT (tx $tx)"
	else
		not_ok "client_server_mp: server saw client 0 transmit and exits 0 on SIGINT" \
			"exit status $rc, client 0 tx '$tx'" "$(diag_file "$(primary_log "$P")")"
	fi
	cleanup_prefix "$P"
}

if [ ! -d "$DPDK_EXAMPLES" ]; then
	echo "1..1"
	echo "ok 1 - DPDK multi-process examples # SKIP no $DPDK_EXAMPLES (apt-get install dpdk-doc)"
	exit 0
fi

test_simple_mp
test_symmetric_mp
test_client_server_mp
done_testing
