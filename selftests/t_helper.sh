#!/bin/bash
# t_helper: dpdkmp-helper for real. setup from a clean state and again (idempotent, --check
# says nothing to do) on a private hugetlbfs mount and runtime directory; the guard loaded,
# exercised by guard_probe under both policies, read by a non-root member of its group who
# cannot touch the tracked state, and unloaded with nothing of ours left in the kernel.
. "$(dirname "$0")/lib.sh"

HELPER=${DPDKMP_HELPER:-$BUILD/helper/dpdkmp-helper}
PROBE=${PROGS:-$BUILD/selftests/progs}/guard_probe
TRACE=$BUILD/helper/dpdkmp-trace
PIN=/sys/fs/bpf/dpdkmp
HUGE=$TMPD/huge
RUN=$TMPD/run
GROUP=dpmp_th$$
NODE_NR=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages

if [ "$(id -u)" -ne 0 ]; then
	skip "dpdkmp-helper" "needs root"
	done_testing
fi
[ -x "$HELPER" ] || bail_out "no $HELPER: build it first"

# What this test changed, put back at exit (before lib.sh's own cleanup).
OUR_GUARD=0
OUR_TRACEFS=0
ORIG_NR=$(cat "$NODE_NR" 2>/dev/null || echo)
th_cleanup()
{
	[ "$OUR_GUARD" = 1 ] && "$HELPER" guard unload >/dev/null 2>&1
	mountpoint -q "$HUGE" 2>/dev/null && umount "$HUGE"
	[ "$OUR_TRACEFS" = 1 ] && umount /sys/kernel/tracing 2>/dev/null
	[ -n "$ORIG_NR" ] && [ "$(cat "$NODE_NR")" != "$ORIG_NR" ] && echo "$ORIG_NR" >"$NODE_NR"
	getent group "$GROUP" >/dev/null && groupdel "$GROUP"
}
trap 'rc=$?; th_cleanup; (exit $rc); dpmp_exit_trap' EXIT

groupadd --system "$GROUP" || bail_out "groupadd $GROUP failed"
GID=$(getent group "$GROUP" | cut -d: -f3)
as_member() { setpriv --reuid=65534 --regid="$GID" --clear-groups --inh-caps=-all "$@"; }
our_progs() { bpftool prog show 2>/dev/null | grep -c ' name dpdkmp_'; }
# IDs of the programs behind our pinned links
pinned_prog_ids() { for l in "$PIN"/link_*; do bpftool link show pinned "$l" 2>/dev/null | sed -n 's/.*prog \([0-9]*\).*/\1/p'; done; }

# ---------------------------------------------------------------- setup
SETUP=(setup --hugetlbfs-dir "$HUGE" --group "$GROUP" --mode 0770 --runtime-dir="$RUN")

"$HELPER" "${SETUP[@]}" --check >"$TMPD/check0" 2>&1
rc=$?
result $((rc != 1)) "setup --check on a clean state: exit 1, changes listed" "exit $rc" \
	"$(cat "$TMPD/check0")"
check "setup --check changed nothing" test ! -e "$RUN" -a ! -e "$HUGE"

"$HELPER" "${SETUP[@]}" >"$TMPD/setup1" 2>&1
result $? "setup mounts hugetlbfs and creates the runtime directory" "$(cat "$TMPD/setup1")"
fstype=$(stat -f -c %T "$HUGE" 2>/dev/null)
result $([ "$fstype" = hugetlbfs ]; echo $?) "hugetlbfs mounted on $HUGE" "type ${fstype:-none}"
result $([ "$(stat -c '%a %G' "$HUGE")" = "770 $GROUP" ]; echo $?) "hugetlbfs root 0770 :$GROUP" \
	"$(stat -c '%a %U:%G' "$HUGE")"
result $([ "$(stat -c '%a %G' "$RUN")" = "770 $GROUP" ]; echo $?) "runtime dir 0770 :$GROUP" \
	"$(stat -c '%a %U:%G' "$RUN" 2>&1)"
grep " $HUGE " /proc/self/mountinfo | grep -q 'pagesize=2M' && mnt_ok=0 || mnt_ok=1
result $mnt_ok "hugetlbfs mounted with 2 MB pages"

"$HELPER" "${SETUP[@]}" >"$TMPD/setup2" 2>&1
rc=$?
! grep -q '^set ' "$TMPD/setup2"
result $((rc | $?)) "setup again: exit 0 and nothing set" "$(cat "$TMPD/setup2")"
[ "$(grep -c " $HUGE " /proc/self/mountinfo)" -eq 1 ]
result $? "setup again: still one mount on $HUGE"
"$HELPER" "${SETUP[@]}" --check >"$TMPD/check1" 2>&1
rc=$?
result $rc "setup --check after setup: exit 0, 0 changes" "$(cat "$TMPD/check1")"

"$HELPER" setup --check --hugetlbfs-dir "$HUGE" --page-size 1G >"$TMPD/check2" 2>&1
rc=$?
result $((rc != 2)) "a 2 MB mount checked for 1 GB pages is an error naming the fix" \
	"exit $rc" "$(cat "$TMPD/check2")"

# hugepages: one more than now, then not below the pages in use, then back
if [ -n "$ORIG_NR" ]; then
	want=$((ORIG_NR + 1))
	"$HELPER" setup --hugepages "$want" --node 0 >"$TMPD/hp1" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q 'kernel has' "$TMPD/hp1"; then
		skip "hugepages raised by one" "the kernel cannot allocate one more 2 MB page"
	else
		result $([ $rc -eq 0 ] && [ "$(cat "$NODE_NR")" = "$want" ]; echo $?) \
			"hugepages node0 raised to $want" "$(cat "$TMPD/hp1")"
		"$HELPER" setup --check --hugepages "$want" --node 0 >/dev/null 2>&1
		result $? "setup --check --hugepages $want: nothing to do"
	fi
	# a file on our mount holds one page: asking for 0 pages stops at the pages in use
	if fallocate -l 2M "$HUGE/held" 2>/dev/null; then
		"$HELPER" setup --check --hugepages 0 --node 0 >"$TMPD/hp2" 2>&1
		grep -q 'the pages in use' "$TMPD/hp2" && ! grep -q -- '-> 0$' "$TMPD/hp2"
		result $? "--hugepages 0 never goes below the pages in use" "$(cat "$TMPD/hp2")"
		rm -f "$HUGE/held"
	else
		skip "--hugepages 0 never goes below the pages in use" "no free 2 MB page to hold"
	fi
	"$HELPER" setup --hugepages "$ORIG_NR" --node 0 >/dev/null 2>&1
	result $([ "$(cat "$NODE_NR")" = "$ORIG_NR" ]; echo $?) "hugepages node0 back to $ORIG_NR"
fi

# bpffs and tracefs, on the real mount points (mounted only when missing; undone at exit)
mountpoint -q /sys/kernel/tracing || OUR_TRACEFS=1
"$HELPER" setup --bpffs --tracefs >"$TMPD/fs1" 2>&1
result $? "setup --bpffs --tracefs" "$(cat "$TMPD/fs1")"
"$HELPER" setup --check --bpffs --tracefs >"$TMPD/fs2" 2>&1
result $? "setup --check --bpffs --tracefs: nothing to do" "$(cat "$TMPD/fs2")"

# ---------------------------------------------------------------- guard
# The pin directory is one per host: every test or script that loads the guard (t_guard,
# scripts/bench-guard) should hold this lock while it does.
exec 8>/run/lock/dpdkmp-guard.lock
flock -w 300 8 || bail_out "another guard user holds /run/lock/dpdkmp-guard.lock"
if [ -e "$PIN" ]; then
	skip "guard tests" "a guard is already loaded on this host ($PIN): not touching it"
	done_testing
fi
BEFORE=$(our_progs)
[ "$BEFORE" -eq 0 ] || diag "$BEFORE dpdkmp_* programs of someone else before the test:" \
	"$(bpftool prog show | grep dpdkmp_)"

OUR_GUARD=1
# guard_probe checks per-call verdicts (which call, which address): the syscall hooks give
# them on every kernel; the default (auto) hooks are exercised with real secondaries by
# t_guard.sh.
"$HELPER" guard load --hooks syscalls --policy kill --group "$GROUP" >"$TMPD/load1" 2>&1
result $? "guard load --policy kill --group $GROUP" "$(cat "$TMPD/load1")"
diag "$(grep -m1 hooks "$TMPD/load1")"
perms=$(cd "$PIN" && stat -c '%n %a %U:%G' . events stats procs zygotes | tr '\n' ';')
want=". 750 root:$GROUP;events 660 root:$GROUP;stats 640 root:$GROUP;procs 600 root:root;zygotes 600 root:root;"
result $([ "$perms" = "$want" ]; echo $?) "pinned files: owners and modes" "got:  $perms" "want: $want"
IDS=$(pinned_prog_ids | tr '\n' ' ')
[ "$(echo $IDS | wc -w)" -ge 4 ]
result $? "guard programs behind the pinned links" "ids: $IDS" "$(bpftool prog show | grep dpdkmp_)"

"$HELPER" guard load >"$TMPD/load2" 2>&1
rc=$?
grep -q 'already loaded' "$TMPD/load2"
result $((rc | $?)) "guard load again: already loaded, exit 0" "$(cat "$TMPD/load2")"
"$HELPER" guard status >"$TMPD/status" 2>&1
grep -q 'policy: kill' "$TMPD/status"
result $? "guard status: loaded, policy kill" "$(cat "$TMPD/status")"

# guard_probe prints PASS/FAIL per expectation
probe()
{
	local tag=$1 line
	shift
	"$@" >"$TMPD/probe.$tag" 2>&1
	local rc=$?
	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "$tag: ${line#PASS }" ;;
		FAIL\ *) not_ok "$tag: ${line#FAIL }" ;;
		esac
	done <"$TMPD/probe.$tag"
	grep -q '^PASS ' "$TMPD/probe.$tag" || not_ok "$tag: guard_probe ran" "exit $rc" \
		"$(cat "$TMPD/probe.$tag")"
}
probe kill run_timeout 60 "$PROBE" run kill

# a member of the group reads the events and cannot touch the tracked state
for m in "procs rw EACCES" "procs ro EACCES" "zygotes rw EACCES" "stats rw EACCES" \
	"stats ro OK" "events rw OK"; do
	set -- $m
	got=$(as_member "$PROBE" open-map "$1" "$2" 2>&1)
	result $([ "$got" = "$3" ]; echo $?) "group member opens $1 $2: $3" "got $got"
done
if [ -x "$TRACE" ]; then
	as_member "$TRACE" --json --no-snapshot -d 6 >"$TMPD/trace" 2>"$TMPD/trace.err" &
	tpid=$!
	sleep 1.5
	run_timeout 60 "$PROBE" run kill --no-drain >/dev/null 2>&1
	wait $tpid
	grep -q '"verdict":"killed"\|KILLED\|"verdict":3' "$TMPD/trace"
	result $? "group member reads the events with dpdkmp-trace (a KILLED verdict)" \
		"$(head -c 2000 "$TMPD/trace.err")" "$(head -n 5 "$TMPD/trace")"
else
	skip "group member reads the events with dpdkmp-trace" "no $TRACE"
fi

"$HELPER" guard load --hooks syscalls --replace --policy warn --group "$GROUP" >"$TMPD/load3" 2>&1
result $? "guard load --replace --policy warn" "$(cat "$TMPD/load3")"
IDS_WARN=$(pinned_prog_ids | tr '\n' ' ')
probe warn run_timeout 60 "$PROBE" run warn

"$HELPER" guard unload >"$TMPD/unload" 2>&1
result $? "guard unload" "$(cat "$TMPD/unload")"
OUR_GUARD=0
left=
for id in $IDS $(echo "$IDS_WARN"); do bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"; done
result $([ -z "$left" ]; echo $?) "none of our programs left after unload" "left:$left"
n=$(our_progs)
if [ "$BEFORE" -eq 0 ]; then
	result $([ "$n" -eq 0 ]; echo $?) "bpftool prog show: no dpdkmp_* program after unload" \
		"$n left" "$(bpftool prog show | grep dpdkmp_)"
else
	skip "bpftool prog show: no dpdkmp_* program after unload" "$BEFORE were there before"
fi
check "nothing pinned after unload" test ! -e "$PIN"
"$HELPER" guard unload >"$TMPD/unload2" 2>&1
result $? "guard unload again: not loaded, exit 0" "$(cat "$TMPD/unload2")"

done_testing
