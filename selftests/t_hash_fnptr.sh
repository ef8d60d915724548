#!/bin/bash
# t_hash_fnptr: the problem dpdkmp exists for. hash_primary's rte_hash stores a pointer to a hash
# function of hash_primary's own executable in shared memory; hash_secondary (another binary)
# can call it only through dpdkmp, where the primary's executable is mapped at its address.
# A classic secondary calls an address that is not code in its process and crashes.
. "$(dirname "$0")/lib.sh"

PREFIX=$(dpmp_prefix fnptr)
RUNS=3
SECONDARY_ARGS=(-l 1 --no-pci --file-prefix "$PREFIX" --proc-type=secondary)

plan $((RUNS + 5))

start_primary "$PREFIX" "${DPMP_PRIMARY[@]}" "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$PREFIX" -m 64
if wait_log "$PREFIX.primary" '^PRIMARY READY' && wait_socket "$PREFIX"; then
	ok "primary ready with its fork server: $(grep -m1 '^PRIMARY READY' "$(primary_log "$PREFIX")")"
else
	not_ok "primary ready with its fork server"
	diag_file "$(primary_log "$PREFIX")"
	bail_out "no primary"
fi

# run_secondary LABEL CMD...: sets OUT (stdout and stderr) and RC.
run_secondary()
{
	local label=$1
	shift
	OUT=$(run_timeout 60 "$@" < /dev/null 2>&1)
	RC=$?
	diag "$label: exit $RC, $(grep -E '^SECONDARY hit=' <<< "$OUT" || echo 'no result line')"
}

# dpdkmp_lookup LABEL [PROGRAM]: one secondary through dpdkmp must find every key.
dpdkmp_lookup()
{
	run_secondary "$1" "${DPMP_RUN[@]}" "$PROGS/${2:-hash_secondary}" "${SECONDARY_ARGS[@]}"
	if [ "$RC" -eq 0 ] && grep -q '^SECONDARY hit=1000/1000 correct=1000$' <<< "$OUT"; then
		ok "$1: all 1000 keys found with the primary's hash function"
	else
		not_ok "$1: all 1000 keys found with the primary's hash function" "$OUT"
	fi
}

for i in $(seq "$RUNS"); do
	dpdkmp_lookup "dpdkmp secondary $i/$RUNS"
done

# The primary's own binary as the secondary: dpdkmp calls its main directly, no loading.
dpdkmp_lookup "dpdkmp secondary of the primary's own binary" hash_primary

# What the feasibility study measured 3/3 times: the classic secondary jumps to the primary's
# fnv1a_hash address, which is not that code (usually not mapped at all) in hash_secondary.
run_secondary "classic secondary" "$PROGS/hash_secondary" "${SECONDARY_ARGS[@]}"
if [ "$RC" -ne 0 ] && ! grep -q 'correct=1000$' <<< "$OUT"; then
	if [ "$RC" -eq 139 ]; then why="SIGSEGV"; else why="status $RC, not the SIGSEGV the study saw"; fi
	ok "classic secondary crashes calling the primary's hash function ($why)"
	# The kernel's word for it, when readable: the faulting ip is the primary's fnv1a_hash.
	fn=$(sed -n 's/^PRIMARY READY.*hash_func=0x//p' "$(primary_log "$PREFIX")" | head -1)
	seen=$([ -n "$fn" ] && dmesg 2>/dev/null | grep "hash_secondary.*segfault at $fn ip 0*$fn " | tail -1)
	[ -n "$seen" ] && diag "kernel: $seen"
else
	not_ok "classic secondary crashes calling the primary's hash function" \
		"it succeeded: hash_secondary must have the primary's code at the same address" "$OUT"
fi

# A secondary that died in the middle of its life must not break the next one.
dpdkmp_lookup "dpdkmp secondary after the classic crash"

check "primary still running after all secondaries" proc_alive "$PREFIX.primary"
stop_primary "$PREFIX"
done_testing
