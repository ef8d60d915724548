#!/bin/bash
# t_mapping_equality: a dpdkmp secondary must map what the primary maps where the primary maps it:
# hugepages and runtime-dir files (DPDK needs that of every secondary), and also the primary's
# executable and every DPDK library and plugin (what dpdkmp adds). A classic secondary is
# compared too: its hugepages and runtime files must match (DPDK guarantees it), its libraries
# are only reported. mapcmp (progs/mapcmp.c) does the comparing from /proc/PID/maps.
#
#   primary (hash_primary -m 256)      dpdkmp secondaries         classic secondary
#                                      (hash_secondary, and       (hash_secondary)
#                                       hash_primary itself)
#   0x1..  hugepage windows      ==    same addresses       ==    same addresses
#   /run/dpdk/<prefix>/*         ==    same (+ own fbarrays)==    same (+ own fbarrays)
#   0x55.. hash_primary          ==    same                       absent
#   0x7f.. librte_*, plugins     ==    same (and same perms)!=    elsewhere (ASLR)
. "$(dirname "$0")/lib.sh"

PREFIX=$(dpmp_prefix maps)
SECONDARY_ARGS=(-l 1 --no-pci --file-prefix "$PREFIX" --proc-type=secondary)

plan 15

start_primary "$PREFIX" "${DPMP_PRIMARY[@]}" "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$PREFIX" -m 256 -- --mem-grow 256
if wait_log "$PREFIX.primary" '^PRIMARY READY' && wait_socket "$PREFIX"; then
	ok "primary ready with its fork server"
else
	not_ok "primary ready with its fork server"
	diag_file "$(primary_log "$PREFIX")"
	bail_out "no primary"
fi
PRIMARY=$(sed -n 's/^PRIMARY READY pid=\([0-9]*\).*/\1/p' "$(primary_log "$PREFIX")" | head -1)

# The secondaries wait on stdin after attaching, so their mappings can be read live. Their pid
# is the one they print: a dpdkmp secondary is the zygote's child, not the launcher.
start_proc dpdkmp_sec 300 env HASH_SECONDARY_WAIT=1 \
	"${DPMP_RUN[@]}" "$PROGS/hash_secondary" "${SECONDARY_ARGS[@]}"
start_proc same_sec 300 env HASH_SECONDARY_WAIT=1 \
	"${DPMP_RUN[@]}" "$PROGS/hash_primary" "${SECONDARY_ARGS[@]}"
start_proc classic_sec 300 env HASH_SECONDARY_WAIT=1 HASH_SECONDARY_NO_LOOKUP=1 \
	"$PROGS/hash_secondary" "${SECONDARY_ARGS[@]}"
waiting_pid() { wait_log "$1" '^SECONDARY WAITING pid=' && sed -n 's/^SECONDARY WAITING pid=//p' "$(proc_log "$1")"; }
found_all() { grep -q '^SECONDARY hit=1000/1000 correct=1000$' "$(proc_log "$1")"; }
DSEC=$(waiting_pid dpdkmp_sec)
SSEC=$(waiting_pid same_sec)
CSEC=$(waiting_pid classic_sec)
if [ -n "$DSEC" ] && [ -n "$SSEC" ] && [ -n "$CSEC" ] && found_all dpdkmp_sec && found_all same_sec; then
	ok "secondaries attached: dpdkmp $DSEC, dpdkmp same binary $SSEC, classic $CSEC"
else
	not_ok "secondaries attached: dpdkmp, dpdkmp same binary, classic"
	for p in dpdkmp_sec same_sec classic_sec; do diag_file "$(proc_log $p)" 10; done
	bail_out "no secondaries"
fi

# mapcmp NAME STATUS ARGS...: ok when mapcmp exits with STATUS (0 equal, 1 different); its
# report becomes diagnostics either way.
mapcmp()
{
	local name=$1 want=$2 out rc
	shift 2
	out=$("$PROGS/mapcmp" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else not_ok "$name"; fi
	diag "$out"
}

# The dpdkmp secondary, another binary: all strict, and -a: what the primary maps must be there.
mapcmp "dpdkmp: hugepage mappings identical" 0 hugepages "$PREFIX" "$PRIMARY" "$DSEC"
mapcmp "dpdkmp: runtime-dir mappings (config, fbarrays) identical" 0 \
	rundir "$PREFIX" "$PRIMARY" "$DSEC"
mapcmp "dpdkmp: the primary's executable at the primary's address" 0 -a \
	exe "$PREFIX" "$PRIMARY" "$DSEC"
mapcmp "dpdkmp: librte_* and PMD plugins at the primary's addresses, same perms" 0 -a \
	libs "$PREFIX" "$PRIMARY" "$DSEC"

# The same binary (dpdkmp calls the primary's main directly); its runtime files are covered.
mapcmp "dpdkmp same binary: hugepage mappings identical" 0 hugepages "$PREFIX" "$PRIMARY" "$SSEC"
mapcmp "dpdkmp same binary: the executable at the primary's address" 0 -a \
	exe "$PREFIX" "$PRIMARY" "$SSEC"
mapcmp "dpdkmp same binary: librte_* and PMD plugins at the primary's addresses, same perms" 0 -a \
	libs "$PREFIX" "$PRIMARY" "$SSEC"

# The classic secondary: hugepages and runtime files are DPDK's promise to every secondary.
mapcmp "classic: hugepage mappings identical" 0 hugepages "$PREFIX" "$PRIMARY" "$CSEC"
mapcmp "classic: runtime-dir mappings (config, fbarrays) identical" 0 \
	rundir "$PREFIX" "$PRIMARY" "$CSEC"
# Negative control: proves mapcmp sees a relocated library. ASLR moves the classic secondary's
# libraries; without ASLR they may land where the primary's are, by luck.
if [ "$(cat /proc/sys/kernel/randomize_va_space)" = 0 ]; then
	skip "classic: libraries differ (negative control for mapcmp)" "ASLR is off (randomize_va_space=0)"
else
	mapcmp "classic: libraries differ (negative control for mapcmp)" 1 -m 5 \
		libs "$PREFIX" "$PRIMARY" "$CSEC"
fi
diag "classic, the primary's executable (informational): $("$PROGS/mapcmp" -m 1 exe "$PREFIX" "$PRIMARY" "$CSEC" 2>&1)"

# Growth after attach: 256 MiB more than -m 256 preallocated makes the heap map new hugepages,
# and DPDK's memory hotplug has every secondary map them before rte_malloc returns; they must
# land at the same addresses.
hugepage_maps() { grep -c "/${PREFIX}map_" "/proc/$1/maps"; }
before=$(hugepage_maps "$PRIMARY")
send_primary "$PREFIX" grow
if wait_log "$PREFIX.primary" '^GROW ok' && [ "$(hugepage_maps "$PRIMARY")" -gt "$before" ]; then
	diag "the primary grew from $before to $(hugepage_maps "$PRIMARY") hugepage mappings"
	mapcmp "dpdkmp: hugepages identical after the primary grew" 0 \
		hugepages "$PREFIX" "$PRIMARY" "$DSEC"
	mapcmp "classic: hugepages identical after the primary grew" 0 \
		hugepages "$PREFIX" "$PRIMARY" "$CSEC"
else
	not_ok "dpdkmp: hugepages identical after the primary grew" "the primary did not grow"
	not_ok "classic: hugepages identical after the primary grew" "the primary did not grow"
	diag_file "$(primary_log "$PREFIX")" 5
fi

stop_proc classic_sec quit
stop_proc same_sec quit
stop_proc dpdkmp_sec quit
if [ "$PROC_RC" -eq 0 ]; then
	ok "dpdkmp secondary exits 0 when told to quit"
else
	not_ok "dpdkmp secondary exits 0 when told to quit (status $PROC_RC)"
	diag_file "$(proc_log dpdkmp_sec)" 5
fi
stop_primary "$PREFIX"
done_testing
