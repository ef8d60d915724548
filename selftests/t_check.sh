#!/bin/bash
# t_check: `dpdkmp check`, the CI proof that secondaries map the primary's hugepages, runtime
# files, executable, DPDK libraries and plugins at the primary's addresses. It must pass, in
# every output format, for dpdkmp secondaries (another binary, the same binary, its own probe,
# dpdk-testpmd, simple_mp), and fail, listing both mappings of each difference, for a classic
# secondary and for a secondary compared with a primary that is not its own.
#
#   hash_primary (HP) ── dpdkmp: hash_secondary, hash_primary, dpdkmp-probe   check: 0
#                    └─ classic: hash_secondary                              check --pid: 1
#   dpdk-testpmd (TP) ── dpdkmp: dpdk-testpmd -i                             check: 0
#                       its secondary against HP's primary (--primary)      check: 1
#   simple_mp (SP)    ── dpdkmp: simple_mp                                   check: 0
. "$(dirname "$0")/lib.sh"

HP=$(dpmp_prefix check)
TP=$(dpmp_prefix checktp)
SP=$(dpmp_prefix checksp)
SEC=(-l 1 --no-pci --file-prefix "$HP" --proc-type=secondary)

plan 21

if [ "$DPDKMP_CLASSIC" = 1 ]; then
	for i in $(seq 21); do skip "dpdkmp check $i" "DPDKMP_CLASSIC=1: no fork server to check"; done
	exit 0
fi

# chk ARGS...: runs `dpdkmp check ARGS`; OUT (stdout), ERR (stderr), RC.
chk()
{
	OUT=$(run_timeout 60 "$DPDKMP" check "$@" 2>"$TMPD/check.err")
	RC=$?
	ERR=$(cat "$TMPD/check.err")
}

# chk_diag: what the last check said, as diagnostics of a failed test.
chk_diag() { echo "exit status $RC"; head -n 40 <<<"$OUT"; head -n 20 <<<"$ERR"; }

# json_valid: stdin parses as one JSON document.
json_valid()
{
	if command -v python3 >/dev/null; then
		python3 -m json.tool >/dev/null
	elif command -v jq >/dev/null; then
		jq -e . >/dev/null
	else
		grep -q '^{.*}$'
	fi
}

# tap_counts: "OK NOT_OK PLAN" of the TAP in $OUT.
tap_counts()
{
	echo "$(grep -c '^ok ' <<<"$OUT") $(grep -c '^not ok ' <<<"$OUT") $(sed -n 's/^1\.\.//p' <<<"$OUT")"
}

waiting_pid() { wait_log "$1" '^SECONDARY WAITING pid=' && sed -n 's/^SECONDARY WAITING pid=//p' "$(proc_log "$1")"; }

# Which file identity the kernel allows: build IDs from PROCMAP_QUERY since Linux 6.11.
IFS=. read -r KMAJ KMIN _ <<<"$(uname -r)"
if [ "$KMAJ" -gt 6 ] || { [ "$KMAJ" -eq 6 ] && [ "${KMIN%%[!0-9]*}" -ge 11 ]; }; then
	IDENTITY=build-id
else
	IDENTITY=dev-inode
fi

# ------------------------------------------------------------ hash_primary and its secondaries
start_primary "$HP" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$HP" -m 64
if wait_primary "$HP" '^PRIMARY READY' && wait_socket "$HP"; then
	ok "hash_primary ready with its fork server"
else
	not_ok "hash_primary ready with its fork server"
	bail_out "no primary"
fi
PRIMARY=$(sed -n 's/^PRIMARY READY pid=\([0-9]*\).*/\1/p' "$(primary_log "$HP")" | head -1)

chk --file-prefix "$HP"
PROBE=$(awk '$2 == "dpdkmp-probe" { print $1 }' <<<"$OUT")
[ "$RC" -eq 0 ] && grep -q '^no live secondary: starting the probe secondary' <<<"$OUT" &&
	grep -Eq '^[0-9]+ +dpdkmp-probe +probe +ok [0-9]+ +ok [0-9]+ +ok 1 +ok [0-9]+ +equal$' <<<"$OUT"
result $? "no live secondary: check starts its probe through the fork server, all equal" "$(chk_diag)"
check "  and the probe (pid ${PROBE:-?}) is gone after the check" wait_gone "${PROBE:-0}" 5

start_proc dpdkmp_sec 120 env HASH_SECONDARY_WAIT=1 "${DPMP_RUN[@]}" "$PROGS/hash_secondary" "${SEC[@]}"
start_proc same_sec 120 env HASH_SECONDARY_WAIT=1 "${DPMP_RUN[@]}" "$PROGS/hash_primary" "${SEC[@]}"
DSEC=$(waiting_pid dpdkmp_sec)
SSEC=$(waiting_pid same_sec)
if [ -n "$DSEC" ] && [ -n "$SSEC" ]; then
	ok "dpdkmp secondaries waiting: hash_secondary $DSEC, hash_primary $SSEC"
else
	not_ok "dpdkmp secondaries waiting" "$(diag_file "$(proc_log dpdkmp_sec)" 10)" \
		"$(diag_file "$(proc_log same_sec)" 10)"
fi

chk --file-prefix "$HP"
[ "$RC" -eq 0 ] && grep -Eq "^$DSEC +hash_secondary +fork server .* equal$" <<<"$OUT" &&
	grep -Eq "^$SSEC +hash_primary +fork server .* equal$" <<<"$OUT" &&
	grep -q '^2 secondaries: 2 equal, 0 different' <<<"$OUT"
result $? "check: exit 0, another binary and the same binary equal" "$(chk_diag)"

chk --file-prefix "$HP" --tap
read -r nok nnot nplan <<<"$(tap_counts)"
[ "$RC" -eq 0 ] && [ "$nok" -eq 8 ] && [ "$nnot" -eq 0 ] && [ "$nplan" = 8 ]
result $? "check --tap: exit 0, 8 of 8 ok (2 secondaries x 4 classes)" "$(chk_diag)"

chk --file-prefix "$HP" --json
JSON=$OUT
json_valid <<<"$JSON" && [ "$RC" -eq 0 ] &&
	grep -q '"result":"equal","equal":2,"different":0,"gone":0' <<<"$JSON" &&
	grep -q "{\"pid\":$DSEC,\"program\":\"hash_secondary\",\"from\":\"fork server\",\"executable\":\"loaded\",\"result\":\"equal\"" <<<"$JSON" &&
	grep -q "{\"pid\":$SSEC,\"program\":\"hash_primary\",\"from\":\"fork server\",\"executable\":\"primary\",\"result\":\"equal\"" <<<"$JSON"
result $? "check --json: valid, both secondaries equal, their executables told apart" "$(chk_diag)"
check "  file identity by $IDENTITY on Linux $(uname -r)" grep -q "\"identity\":\"$IDENTITY\"" <<<"$JSON"

chk --file-prefix "$HP" -v
if [ "$IDENTITY" = build-id ]; then
	grep -Eq "^  libs /.*/librte_eal\.so[.0-9]*: equal: [0-9]+ mappings, build ID [0-9a-f]{40}$" <<<"$OUT"
else
	grep -Eq "^  libs /.*/librte_eal\.so[.0-9]*: equal: [0-9]+ mappings, device .* inode" <<<"$OUT"
fi
result $? "check -v: lists librte_eal as equal with its $IDENTITY" "$(chk_diag)"

# The fallback of kernels without PROCMAP_QUERY, forced: device and inode prove the files.
OUT=$(DPDKMP_CHECK_NO_PROCMAP=1 run_timeout 60 "$DPDKMP" check --file-prefix "$HP" --json 2>&1)
RC=$?
[ "$RC" -eq 0 ] && grep -q '"identity":"dev-inode","identity_detail":"device and inode; PROCMAP_QUERY not used' <<<"$OUT" &&
	grep -Eq '"libs":\{"result":"equal","files":[1-9][0-9]*,"mappings":[0-9]+,"differ":0,"secondary_own":[0-9]+,"secondary_extra":0,"by_build_id":0,"by_dev_inode":[1-9]' <<<"$OUT"
result $? "without PROCMAP_QUERY: files proven by device and inode, and said so" "$(chk_diag)"

chk --file-prefix "$HP" --probe -- --no-such-eal-option
[ "$RC" -eq 2 ] && grep -q "the probe secondary exited with status 2 before it attached" <<<"$ERR" &&
	grep -q "unrecognized option '--no-such-eal-option'" <<<"$ERR"
result $? "a probe that cannot attach: exit 2 with its output" "$(chk_diag)"

chk --file-prefix "$HP" --probe --tap
read -r nok nnot nplan <<<"$(tap_counts)"
PROBE=$(sed -n 's/^ok 1 - pid \([0-9]*\) (dpdkmp-probe).*/\1/p' <<<"$OUT")
[ "$RC" -eq 0 ] && [ "$nok" -eq 4 ] && [ "$nnot" -eq 0 ] && [ -n "$PROBE" ] &&
	! grep -q "($DSEC\|$SSEC)" <<<"$OUT"
result $? "check --probe --tap: only the probe is compared, 4 of 4 ok" "$(chk_diag)"
check "  and the probe (pid ${PROBE:-?}) is gone after the check" wait_gone "${PROBE:-0}" 5

# ------------------------------------------------------------ the broken case: a classic secondary
start_proc classic_sec 120 env HASH_SECONDARY_WAIT=1 HASH_SECONDARY_NO_LOOKUP=1 \
	"$PROGS/hash_secondary" "${SEC[@]}"
CSEC=$(waiting_pid classic_sec)
ASLR=$(cat /proc/sys/kernel/randomize_va_space)

chk --file-prefix "$HP" --pid "${CSEC:-0}"
[ "$RC" -eq 1 ] && grep -Eq "^${CSEC:-x} +hash_secondary +--pid +ok [0-9]+ +ok [0-9]+ +DIFF 1/1 .* different$" <<<"$OUT" &&
	grep -A2 "^  DIFF exe $(readlink -f "$PROGS/hash_primary"): not mapped by the secondary" <<<"$OUT" |
	grep -q '^      secondary: (nothing mapped)$'
result $? "classic secondary $CSEC: exit 1, the primary's executable reported missing" "$(chk_diag)"

# The libraries of a classic secondary land elsewhere by ASLR (by luck, without it).
if [ "$ASLR" = 0 ]; then
	skip "classic: each differing library shown with both mappings" "ASLR is off (randomize_va_space=0)"
	skip "classic --tap: libs not ok, with the differing lines" "ASLR is off"
	skip "classic --json: libs mismatches carry both lines" "ASLR is off"
else
	EAL_DIFF=$(grep -A2 '^  DIFF libs /.*/librte_eal\.so[.0-9]*: mapped at another address' <<<"$OUT")
	grep -Eq '^      primary:   [0-9a-f]+-[0-9a-f]+ r..p [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ [0-9]+ /.*librte_eal\.so' <<<"$EAL_DIFF" &&
		grep -Eq '^      secondary: [0-9a-f]+-[0-9a-f]+ r..p [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ [0-9]+ /.*librte_eal\.so' <<<"$EAL_DIFF" &&
		[ "$(grep -c '^  DIFF libs ' <<<"$OUT")" -gt 10 ]
	result $? "classic: each differing library shown with both mappings ($(grep -c '^  DIFF libs ' <<<"$OUT") libraries)" \
		"$(chk_diag)"

	chk --file-prefix "$HP" --pid "${CSEC:-0}" --tap
	[ "$RC" -eq 1 ] && grep -q '^ok 1 - .* hugepages: ' <<<"$OUT" && grep -q '^ok 2 - .* rundir: ' <<<"$OUT" &&
		grep -q '^not ok 3 - .* exe: ' <<<"$OUT" && grep -q '^not ok 4 - .* libs: ' <<<"$OUT" &&
		grep -A2 '^#   /.*librte_eal\.so[.0-9]*: ' <<<"$OUT" | grep -q '^#       secondary: .*librte_eal'
	result $? "classic --tap: hugepages and rundir ok, exe and libs not ok, with the differing lines" \
		"$(chk_diag)"

	chk --file-prefix "$HP" --pid "${CSEC:-0}" --json
	json_valid <<<"$OUT" && [ "$RC" -eq 1 ] && grep -q '"result":"different","equal":0,"different":1' <<<"$OUT" &&
		grep -Eq '"file":"[^"]*librte_eal\.so[.0-9]*","what":"mapped at another address[^"]*","primary":"[0-9a-f]+-[^"]*librte_eal[^"]*","secondary":"[0-9a-f]+-[^"]*librte_eal' <<<"$OUT" &&
		grep -q '"what":"not mapped by the secondary","primary":"[0-9a-f]*-[^"]*hash_primary","secondary":null' <<<"$OUT"
	result $? "classic --json: valid, libs mismatches carry both lines, the executable is missing" \
		"$(chk_diag)"
fi

chk --file-prefix "nosuch_$$"
[ "$RC" -eq 2 ] && grep -q "no dpdkmp fork server for file prefix 'nosuch_$$'.*dpdkmp primary" <<<"$ERR"
result $? "no fork server: exit 2, saying how to start one" "$(chk_diag)"

# ------------------------------------------------------------ dpdk-testpmd
if ! command -v dpdk-testpmd >/dev/null; then
	skip "testpmd: a waiting dpdkmp secondary is equal" "dpdk-testpmd missing (apt-get install dpdk)"
	skip "testpmd's secondary against another primary: hugepages and rundir differ" "no dpdk-testpmd"
else
	start_primary "$TP" "${DPMP_PRIMARY[@]}" dpdk-testpmd -l 0-1 --no-pci --file-prefix "$TP" \
		--vdev net_null0 --vdev net_null1 -- -i --total-num-mbufs=4096
	wait_socket "$TP" && wait_primary "$TP" "testpmd> "
	start_proc tp_sec 120 "${DPMP_RUN[@]}" dpdk-testpmd -l 0-1 --no-pci --file-prefix "$TP" \
		--proc-type=secondary -- -i
	wait_log tp_sec "testpmd> " 30
	chk --file-prefix "$TP" --tap
	read -r nok nnot nplan <<<"$(tap_counts)"
	TSEC=$(sed -n 's/^ok 1 - pid \([0-9]*\) (dpdk-testpmd).*/\1/p' <<<"$OUT")
	[ "$RC" -eq 0 ] && [ "$nok" -eq 4 ] && [ "$nnot" -eq 0 ] && [ -n "$TSEC" ]
	result $? "testpmd: a waiting dpdkmp secondary (testpmd -i) is equal" "$(chk_diag)" \
		"$(diag_file "$(proc_log tp_sec)" 10)"

	# Negative control for the hugepage and runtime-dir classes: testpmd's secondary has
	# none of hash_primary's hugepages or runtime files.
	chk --file-prefix "$HP" --primary "$PRIMARY" --pid "${TSEC:-0}" --tap
	[ "$RC" -eq 1 ] && grep -q '^not ok 1 - .* hugepages: ' <<<"$OUT" &&
		grep -q '^not ok 2 - .* rundir: ' <<<"$OUT" &&
		grep -A2 "^#   /.*/${HP}map_[0-9]*: not mapped by the secondary" <<<"$OUT" |
		grep -q "^#       primary:   [0-9a-f]*-[0-9a-f]* rw-s .*/${HP}map_"
	result $? "testpmd's secondary against another primary: hugepages and rundir differ" "$(chk_diag)"
	stop_proc tp_sec quit
	stop_primary "$TP" quit
fi

stop_proc classic_sec quit
stop_proc same_sec quit
stop_proc dpdkmp_sec quit
stop_primary "$HP"

# ------------------------------------------------------------ simple_mp
if [ ! -d "$DPDK_EXAMPLES/simple_mp" ]; then
	skip "simple_mp: a dpdkmp secondary is equal" "no $DPDK_EXAMPLES (apt-get install dpdk-doc)"
elif ! build_example simple_mp >"$DPMP_LOGDIR/build-simple_mp.err" 2>&1; then
	not_ok "simple_mp: a dpdkmp secondary is equal" "simple_mp did not build" \
		"$(diag_file "$DPMP_LOGDIR/build-simple_mp.log")"
else
	BIN=$(example_bin simple_mp)
	start_primary "$SP" "${DPMP_PRIMARY[@]}" "$BIN" -l 0-1 --no-pci --proc-type=primary \
		--file-prefix "$SP"
	wait_socket "$SP" && wait_primary "$SP" "Finished Process Init"
	start_proc sp_sec 60 "${DPMP_RUN[@]}" "$BIN" -l 0-1 --no-pci --proc-type=secondary \
		--file-prefix "$SP"
	wait_log sp_sec "Finished Process Init" 30
	chk --file-prefix "$SP"
	[ "$RC" -eq 0 ] && grep -Eq '^[0-9]+ +simple_mp +fork server +ok [0-9]+ +ok [0-9]+ +ok 1 +ok [0-9]+ +equal$' <<<"$OUT"
	result $? "simple_mp: a dpdkmp secondary is equal" "$(chk_diag)" \
		"$(diag_file "$(proc_log sp_sec)" 10)"
	stop_proc sp_sec quit
	stop_primary "$SP" quit
fi
done_testing
