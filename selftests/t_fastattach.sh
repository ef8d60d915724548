#!/bin/bash
# t_fastattach: the attach-time shortcuts (eal-mp/shortcuts.c) are exact and fall back. A
# secondary through dpdkmp detects the same CPU/NUMA topology with the shortcuts, without them
# (DPDKMP_NO_SHORTCUTS=1), with a stale snapshot (the fallback path) and classically; the
# shortcuts really replace EAL's sysfs probing and plugin realpath calls (counted under
# strace), and a stale snapshot is noticed, said, and probed for real.
. "$(dirname "$0")/lib.sh"

PROBE=$PROGS/probe_secondary

# start_fs PREFIX [ENV=VALUE...] [-- ARGS...]: a hash_primary of 64 MiB under dpdkmp with that
# environment, ARGS added to its command line (EAL options, then -- and its own); bails out
# if it does not come up.
start_fs() {
	local p=$1 env=() args=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	args=("$@")
	start_primary "$p" env DPDKMP_LOG=info "${env[@]}" "$DPDKMP" primary -- \
		"$PROGS/hash_primary" -l 0 --no-pci --file-prefix "$p" -m 64 "${args[@]}"
	wait_primary "$p" '^PRIMARY READY' && wait_socket "$p" || bail_out "no primary ($*)"
}
topology() { # PREFIX [dpdkmp|classic] [ENV=VALUE...]: md5 of what EAL detected, or "none"
	local p=$1 mode=$2 out
	shift 2
	if [ "$mode" = classic ]; then
		out=$(env "$@" timeout -k 5 60 "$PROBE" -l 1 --no-pci --file-prefix "$p" \
			--proc-type=secondary -- topology 2>/dev/null)
	else
		out=$(env "$@" timeout -k 5 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci \
			--file-prefix "$p" -- topology 2>/dev/null)
	fi
	if grep -q "^SOCKETS [0-9]* LCORES [0-9]*$" <<< "$out"; then
		md5sum <<< "$out" | cut -c1-32
	else
		echo none
	fi
}
# strace_attach PREFIX OUT "STRACE OPTIONS" [ENV=VALUE...]: one dpdkmp attach (probe, exit 0)
# with that environment, under strace -f of the zygote and its waiting pool children
strace_attach() {
	local p=$1 out=$2 opts=$3 st
	shift 3
	pool_settle "$p"        # a pool child forked while strace starts would not be traced
	# shellcheck disable=SC2046,SC2086
	strace -f $opts $(strace_family "$p") -o "$out" 2>/dev/null &
	st=$!
	sleep 1
	env "$@" timeout -k 5 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$p" \
		-- exit 0 > /dev/null 2> "$TMPD/strace_attach.err" ||
		echo "attach failed: $(cat "$TMPD/strace_attach.err")" >&2
	sleep 0.3
	kill -TERM "$st"        # not INT: background jobs of a script ignore it
	wait "$st"
}
# calls PREFIX NAME [ENV=VALUE...]: how many NAME system calls one dpdkmp attach makes
calls() {
	local p=$1 name=$2 n
	shift 2
	strace_attach "$p" "$TMPD/calls.strace" -c "$@"
	n=$(awk -v s="$name" '$NF == s { print $4 }' "$TMPD/calls.strace")
	echo "${n:-0}"
}

P=$(dpmp_prefix fast)
# debug: the children's log level is the primary's (slot index check below)
start_fs "$P" DPDKMP_LOG=debug
CLASSIC=$(topology "$P" classic)
WITH=$(topology "$P" dpdkmp)
WITHOUT=$(topology "$P" dpdkmp DPDKMP_NO_SHORTCUTS=1)
[ "$CLASSIC" != none ] && [ "$WITH" = "$CLASSIC" ] && [ "$WITHOUT" = "$CLASSIC" ]
result $? "EAL detects the same topology with and without the shortcuts, and classically" \
	"classic $CLASSIC, shortcuts $WITH, none $WITHOUT"

if command -v strace > /dev/null; then
	A_ON=$(calls "$P" faccessat)
	R_ON=$(calls "$P" readlink)
	A_OFF=$(calls "$P" faccessat DPDKMP_NO_SHORTCUTS=1)
	R_OFF=$(calls "$P" readlink DPDKMP_NO_SHORTCUTS=1)
	[ "$A_ON" -lt 100 ] && [ "$A_OFF" -gt 1000 ]
	result $? "topology shortcut: $A_ON access calls per attach instead of $A_OFF"
	[ "$R_ON" -lt 100 ] && [ "$R_OFF" -gt 1000 ]
	result $? "plugin shortcut: $R_ON readlink calls per attach instead of $R_OFF"
else
	skip "shortcuts replace the system calls" "strace is not installed"
	skip "plugin shortcut" "strace is not installed"
fi

# The plugins' dlopen shortcut leaves the reference counts a genuine init leaves.
PMD_DIR=${DPDKMP_PMD_DIR:-$(sed -n 's/^#define DPDKMP_PMD_DIR "\(.*\)"$/\1/p' "$BUILD/dpdkmp_config.h")}
NULL_PMD=$(realpath "$PMD_DIR/librte_net_null.so")
refs() { # PREFIX [ENV=VALUE...]: the reference count of net_null in a dpdkmp secondary
	local p=$1
	shift
	env "$@" timeout -k 5 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$p" \
		-- refcount "$NULL_PMD" "$PROGS/libdpmp_refcal.so" 2>/dev/null | sed -n 's/^REFCOUNT //p'
}
RC_ON=$(refs "$P")
RC_OFF=$(refs "$P" DPDKMP_NO_SHORTCUTS=1)
[[ $RC_ON =~ ^[0-9]+$ ]] && [ "$RC_ON" -ge 2 ] && [ "$RC_ON" = "$RC_OFF" ]
result $? "plugin dlopen shortcut: net_null's reference count is $RC_ON, as without it ($RC_OFF)"

# The zygote's index of data-pointer slots (loader.c) redirects the same GOT slots to the
# executable's COPY-relocated objects as a walk of every relocation does.
slots() { # PREFIX [ENV=VALUE...]: "loaded ... N GOT slots redirected" of hash_secondary
	local p=$1
	shift
	env "$@" timeout -k 5 60 "$DPDKMP" run -- "$PROGS/hash_secondary" -l 1 \
		--no-pci --file-prefix "$p" 2>&1 | sed -n 's/.*copy relocations, \([0-9]*\) GOT slots redirected.*/\1/p'
}
S_ON=$(slots "$P")
S_OFF=$(slots "$P" DPDKMP_NO_SHORTCUTS=1)
[[ $S_ON =~ ^[0-9]+$ ]] && [ "$S_ON" -gt 0 ] && [ "$S_ON" = "$S_OFF" ]
result $? "slot index: $S_ON GOT slots redirected, as by the full walk ($S_OFF)"

# The window check after init: PROCMAP_QUERY, and /proc/self/maps where the kernel has none.
for how in query maps; do
	hook=; [ $how = maps ] && hook=maps
	DPDKMP_TEST_VERIFY=$hook run_timeout 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci \
		--file-prefix "$P" -- exit 0 > /dev/null 2> "$TMPD/verify.err"
	result $? "window check ($how): a matching secondary runs" "$(cat "$TMPD/verify.err")"
	DPDKMP_TEST_VERIFY=$hook,wrong run_timeout 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci \
		--file-prefix "$P" -- exit 0 > /dev/null 2> "$TMPD/verify.err"
	rc=$?
	[ $rc -ne 0 ] && grep -q "runtime file .* is not mapped at the primary's address" "$TMPD/verify.err" &&
		grep -q "does not match the primary's; refusing to run it" "$TMPD/verify.err"
	result $? "window check ($how): a mismatch is found and the secondary refused (rc $rc)" \
		"$(cat "$TMPD/verify.err")"
done
stop_primary "$P"

# ---- The hugepage mirror (eal-mp/segments.c): the zygote maps the primary's segments, a
# child's EAL finds them. Exact: the same mappings, with the same flags, as a classic
# secondary's; the mirror follows the primary's allocations and frees; a mirror that does not
# match the files is not used.
# traced PREFIX SYSCALLS REGEX [ENV=VALUE...]: how many calls matching REGEX (strace -y: fds
# shown with their paths) the secondary of one dpdkmp attach makes (the process that takes a
# lock on a hugepage file: not the pool children forked meanwhile)
traced() {
	local p=$1 sc=$2 re=$3 sp
	shift 3
	strace_attach "$p" "$TMPD/traced.strace" "-y -e trace=flock,$sc" "$@"
	sp=$(awk '/flock\(.*map_[0-9-]*>/ { print $1; exit }' "$TMPD/traced.strace")
	awk -v p="${sp:-none}" '$1 == p' "$TMPD/traced.strace" | grep -cE "$re"
}
# EAL's segment mmap calls (MAP_POPULATE) of one dpdkmp attach
populates() { local p=$1; shift; traced "$p" mmap MAP_POPULATE "$@"; }
# the mapping check's fstat of EAL's hugepage fds
fstats() { local p=$1; shift; traced "$p" newfstatat "map_[0-9-]*>, \"\", .*AT_EMPTY_PATH" "$@"; }
# EAL's own opens of hugepage files
opens() { local p=$1; shift; traced "$p" openat "map_[0-9-]*\", O_RDWR\|O_CREAT" "$@"; }
# EAL's own creates of its memseg arrays (under section 2's hidden name, initfiles.c)
acreates() { local p=$1; shift; traced "$p" openat "/\.dpdkmp-[0-9]+-fbarray_memseg-[^\"]*\", O_RDWR\|O_CREAT\|O_EXCL" "$@"; }
# the primary's memseg array files in its runtime directory (a secondary's end in _PID)
lists() { find "$(runtime_dir "$1")" -maxdepth 1 -regextype posix-extended -regex '.*/fbarray_memseg-[^_]*' | wc -l; }
# stray_hidden PREFIX: hidden files (initfiles.c) in the runtime directory of a pid that is no
# waiting pool child
stray_hidden() {
	local f pid pool files
	# the files first: a child forked after the pool is listed may be making its own
	files=("$(runtime_dir "$1")"/.dpdkmp-*)
	pool=" $(pool_pids "$1" | tr '\n' ' ') "
	for f in "${files[@]}"; do
		[ -e "$f" ] || continue
		pid=${f##*/.dpdkmp-}
		pid=${pid%%-*}
		[[ $pool == *" $pid "* ]] || echo "${f##*/}"
	done
}
hugemaps() { grep -F "/${1}map_" "/proc/$2/maps" | awk '{ print $1, $2, $3, $6 }' | sort; }
# same_hugemaps PREFIX PID: PID maps the primary's hugepage files where the primary does (the
# difference, if any, in $TMPD/h.diff); prints how many the primary maps
same_hugemaps() {
	hugemaps "$1" "$2" > "$TMPD/h.dp"
	hugemaps "$1" "$(primary_pid "$1")" > "$TMPD/h.pri"
	wc -l < "$TMPD/h.pri"
	diff "$TMPD/h.dp" "$TMPD/h.pri" > "$TMPD/h.diff" && [ -s "$TMPD/h.pri" ]
}
# every mapping below 1 TiB (DPDK's windows): range, perms, path and smaps VmFlags
winflags() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { split($1, a, "-"); r = $1 " " $2 " " $6; keep = length(a[1]) <= 10 }
	     /^VmFlags/ { if (keep) print r, $0 }' "/proc/$1/smaps"
}
secondary_pid() { sed -n 's/^READY pid=//p' "$(proc_log "$1")"; }
# attaches_same PREFIX NAME LABEL: a dpdkmp secondary (NAME) attaches and maps the primary's
# hugepage files where the primary does; one assertion, LABEL first
attaches_same() {
	local p=$1 name=$2 label=$3 n
	start_proc "$name" 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$p" -- wait
	if wait_log "$name" '^READY' 30; then
		n=$(same_hugemaps "$p" "$(secondary_pid "$name")")
		result $? "$label: a secondary has the primary's $n hugepage mappings at the same addresses (mirror: $(status_field "$p" mirror_segments) segments)" \
			"$(head -5 "$TMPD/h.diff")"
	else
		not_ok "$label: a secondary attaches" "$(cat "$(proc_log "$name")")"
	fi
	stop_proc "$name"
}

P=$(dpmp_prefix fast_mirror)
start_fs "$P" -- -- --mem-grow 64
PAGES=$(hugemaps "$P" "$(primary_pid "$P")" | wc -l)
LISTS=$(lists "$P")
MS=$(status_field "$P" mirror_segments)
MB=$(status_field "$P" mirror_bytes)
[ "$MS" = "$PAGES" ] && [ "$MB" = $((PAGES * 2097152)) ] &&
	[ "$(hugemaps "$P" "$(zygote_pid "$P")" | wc -l)" -eq "$PAGES" ]
result $? "mirror: the zygote maps the primary's $PAGES hugepages; dpdkmp status says $MS segments, $MB bytes"
if command -v strace > /dev/null; then
	ON=$(populates "$P")
	OFF=$(populates "$P" DPDKMP_NO_SHORTCUTS=1)
	STALE=$(populates "$P" DPDKMP_TEST_STALE_SEGMENTS=1)
	FS=$(fstats "$P")
	[ "$ON" -eq 0 ] && [ "$OFF" -ge "$PAGES" ] && [ "$STALE" -ge "$PAGES" ] && [ "$FS" -eq "$PAGES" ]
	result $? "mirror: EAL maps $ON of $PAGES hugepages itself ($OFF without shortcuts, $STALE with a stale mirror); $FS files checked"
	# numa_available()'s probe is answered; the node of each page is answered where node 0 is
	# the only possible node, asked elsewhere.
	G_ON=$(calls "$P" get_mempolicy)
	G_OFF=$(calls "$P" get_mempolicy DPDKMP_NO_SHORTCUTS=1)
	if [ "$(cat /sys/devices/system/node/possible 2>/dev/null)" = 0 ]; then
		WANT="fewer than 8 (node 0 is the only possible node)"
		[ "$G_ON" -lt 8 ]
	else
		WANT="one per page"
		[ "$G_ON" -ge "$PAGES" ] && [ "$G_ON" -lt $((PAGES + 8)) ]
	fi && [ "$G_OFF" -ge $((2 * PAGES)) ]
	result $? "mirror: $G_ON get_mempolicy calls for $PAGES pages, $WANT ($G_OFF without shortcuts)"
	# A waiting pool child's own descriptions of the files (prepared.c) are EAL's open.
	O_ON=$(opens "$P")
	O_STALE=$(opens "$P" DPDKMP_TEST_STALE_PREPARED=1)
	O_OFF=$(opens "$P" DPDKMP_NO_SHORTCUTS=1)
	[ "$O_ON" -eq 0 ] && [ "$O_STALE" -eq "$PAGES" ] && [ "$O_OFF" -eq "$PAGES" ]
	result $? "prepared files: EAL opens $O_ON of $PAGES hugepage files itself ($O_STALE when the paths name other files, $O_OFF without shortcuts)"
	# ... and its memseg arrays, made and zero-filled while it waited, are EAL's create of them
	A_ON=$(acreates "$P")
	A_STALE=$(acreates "$P" DPDKMP_TEST_STALE_PREPARED=1)
	A_OFF=$(acreates "$P" DPDKMP_NO_SHORTCUTS=1)
	[ "$A_ON" -eq 0 ] && [ "$A_STALE" -eq "$LISTS" ] && [ "$A_OFF" -eq "$LISTS" ]
	result $? "prepared memseg arrays: EAL creates $A_ON of its $LISTS memseg array files itself ($A_STALE when the hidden names name other files, $A_OFF without shortcuts)"
else
	skip "mirror: EAL maps no hugepage itself" "strace is not installed"
	skip "mirror: numa_available's probe is answered" "strace is not installed"
	skip "prepared files: EAL opens no hugepage file itself" "strace is not installed"
	skip "prepared memseg arrays: EAL creates none itself" "strace is not installed"
fi
fd_flags() { # PID GLOB: "FILE FLAGS" for each of its fds on a file matching GLOB (fdinfo, octal)
	local f t
	for f in /proc/"$1"/fd/*; do
		t=$(readlink "$f") || continue
		# shellcheck disable=SC2053
		[[ $t == $2 ]] && echo "$t $(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${f##*/}")"
	done
}
hugefd_flags() { fd_flags "$1" '*map_*'; }      # PID: its fds on hugepage files
# hugefds PID: each of its fds on a hugepage file (file, open flags and close-on-exec from
# fdinfo, not the fd number), then how many shared flocks it holds
hugefds() {
	hugefd_flags "$1" | sort
	echo "flocks $(awk -v p="$1" '$2 == "FLOCK" && $4 == "READ" && $5 == p' /proc/locks | wc -l)"
}
for how in mirror stale stale-prepared; do
	env=()
	[ $how = stale ] && env=(DPDKMP_TEST_STALE_SEGMENTS=1)
	[ $how = stale-prepared ] && env=(DPDKMP_TEST_STALE_PREPARED=1)
	start_proc "$how.dp" 60 env "${env[@]}" "$DPDKMP" run -- "$PROBE" -l 1 --no-pci \
		--file-prefix "$P" -- wait
	start_proc "$how.cl" 60 "$PROBE" -l 1 --no-pci --file-prefix "$P" --proc-type=secondary -- wait
	if wait_log "$how.dp" '^READY' 30 && wait_log "$how.cl" '^READY' 30; then
		winflags "$(secondary_pid "$how.dp")" > "$TMPD/w.dp"
		winflags "$(secondary_pid "$how.cl")" > "$TMPD/w.cl"
		winflags "$(primary_pid "$P")" > "$TMPD/w.pri"
		[ -s "$TMPD/w.dp" ] && cmp -s "$TMPD/w.dp" "$TMPD/w.cl" && cmp -s "$TMPD/w.dp" "$TMPD/w.pri"
		result $? "$how: every mapping in the windows ($(wc -l < "$TMPD/w.dp")) has the range, file and smaps flags of a classic secondary's and the primary's" \
			"$(diff "$TMPD/w.dp" "$TMPD/w.cl" | head -5)" "$(diff "$TMPD/w.dp" "$TMPD/w.pri" | head -5)"
		hugefds "$(secondary_pid "$how.dp")" > "$TMPD/f.dp"
		hugefds "$(secondary_pid "$how.cl")" > "$TMPD/f.cl"
		[ "$(grep -c map_ "$TMPD/f.dp")" -eq "$PAGES" ] && cmp -s "$TMPD/f.dp" "$TMPD/f.cl"
		result $? "$how: the secondary's $(grep -c map_ "$TMPD/f.dp") hugepage fds (files, flags) and its $(sed -n 's/^flocks //p' "$TMPD/f.dp") shared flocks are a classic secondary's" \
			"$(diff "$TMPD/f.dp" "$TMPD/f.cl" | head -5)"
	else
		not_ok "$how: secondaries ready" "$(cat "$(proc_log "$how.dp")" "$(proc_log "$how.cl")")"
	fi
	stop_proc "$how.dp"
	stop_proc "$how.cl"
done

# The primary grows: the mirror follows (nothing for EAL to map), the mappings are the primary's.
send_primary "$P" grow
if wait_log "$P.primary" '^GROW ok' 30; then
	GROWN=$(hugemaps "$P" "$(primary_pid "$P")" | wc -l)
	if command -v strace > /dev/null; then
		N=$(populates "$P")
		[ "$N" -eq 0 ] && [ "$GROWN" -gt "$PAGES" ]
		result $? "grown from $PAGES to $GROWN hugepages: EAL maps $N itself (the mirror followed)"
	fi
	attaches_same "$P" grown grown
	# The primary frees them again: the zygote lets go, the primary unlinks the files.
	send_primary "$P" shrink
	wait_log "$P.primary" '^SHRINK ok' 30
	Z=$(zygote_pid "$P")
	for _ in $(seq 50); do
		[ "$(hugemaps "$P" "$Z" | wc -l)" -eq "$PAGES" ] &&
			[ "$(find "$DPMP_HUGEDIR" -maxdepth 1 -name "${P}map_*" | wc -l)" -eq "$PAGES" ] && break
		sleep 0.1
	done
	ZN=$(hugemaps "$P" "$Z" | wc -l)
	FILES=$(find "$DPMP_HUGEDIR" -maxdepth 1 -name "${P}map_*" | wc -l)
	[ "$ZN" -eq "$PAGES" ] && [ "$FILES" -eq "$PAGES" ] && [ "$(status_field "$P" mirror_segments)" = "$PAGES" ]
	result $? "shrunk: the zygote maps $ZN hugepages, $FILES files remain (of $PAGES before growing)"
	run_timeout 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$P" -- exit 0 \
		> /dev/null 2> "$TMPD/shrunk.err"
	result $? "shrunk: a secondary attaches" "$(cat "$TMPD/shrunk.err")"
else
	not_ok "the primary grows" "$(primary_output "$P" | tail -5)"
fi
stop_primary "$P"

# A zygote that stops reading (SIGSTOP) delays the primary's allocations, never blocks them:
# the memory events are sent without blocking, for a second at most, then the mirror stops.
# (A small send buffer makes the events overflow it: DPDKMP_TEST_SEGMENTS_SNDBUF.)
P=$(dpmp_prefix fast_stopped)
start_fs "$P" DPDKMP_TEST_SEGMENTS_SNDBUF=8192 -- -- --mem-grow 1024
Z=$(zygote_pid "$P")
kill -STOP "$Z"
T0=$EPOCHREALTIME
send_primary "$P" grow
wait_log "$P.primary" '^GROW ok' 30
rc=$?
T1=$EPOCHREALTIME
kill -CONT "$Z"
GROW_MS=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%d", (b - a) * 1000 }')
[ $rc -eq 0 ] && [ "$GROW_MS" -lt 5000 ] &&
	grep -q "cannot tell the zygote about our memory (Resource temporarily unavailable)" "$(primary_log "$P")"
result $? "a stopped zygote: the primary grows by 1 GiB all the same (${GROW_MS} ms) and stops the mirror" \
	"$(grep -i 'zygote\|GROW' "$(primary_log "$P")" | tail -3)"
for _ in $(seq 50); do [ "$(status_field "$P" mirror_segments)" = 0 ] && break; sleep 0.1; done
[ "$(status_field "$P" mirror_segments)" = 0 ]
result $? "  the resumed zygote drops the mirror ($(status_field "$P" mirror_segments) segments)"
attaches_same "$P" stopped "  and after it resumes"
stop_primary "$P"

# Other memory modes: --legacy-mem (no memory events; EAL's legacy attach maps the pages in
# its own way), with and without single file segments. A secondary attaches through the
# mirror and maps the primary's hugepages at the same addresses.
for mode in "--legacy-mem" "--legacy-mem --single-file-segments"; do
	P=$(dpmp_prefix fast_legacy)
	# shellcheck disable=SC2086
	start_fs "$P" -- $mode
	attaches_same "$P" legacy "$mode"
	stop_primary "$P"
done

# Single file segments (one file per memseg list, a page at each offset): the mirror holds
# them all, EAL maps none itself and looks at each of its 4 files once (not once per page);
# the mappings are the primary's.
P=$(dpmp_prefix fast_sfs)
start_fs "$P" -- --single-file-segments
if command -v strace > /dev/null; then
	N=$(populates "$P")
	FS=$(fstats "$P")
	[ "$N" -eq 0 ] && [ "$FS" -ge 1 ] && [ "$FS" -le 4 ]
	result $? "single file segments: EAL maps $N hugepages itself; $FS fstat of its file by the mapping check for 32 pages"
else
	skip "single file segments: EAL maps no hugepage itself" "strace is not installed"
fi
attaches_same "$P" sfs "single file segments"
stop_primary "$P"

# ---- The pool of pre-forked children (zygote.c): requests go to a waiting child, which is
# then refilled; retired when the primary's memory changes; replaced when it dies; gone with
# the primary; off with DPDKMP_POOL=0.
pool_wait() { # PREFIX N: until N pool children wait (10 s); prints their pids
	local rc
	pool_settle "$1" "$2"
	rc=$?
	echo $(pool_pids "$1")
	return $rc
}
P=$(dpmp_prefix fast_pool)
# What pool children of an earlier primary with this prefix left when they were killed with
# their zygote goes when the new primary's init is done; a live pid's file stays.
true &
DEAD=$!
wait "$DEAD"
mkdir -p "$(runtime_dir "$P")"
touch "$(runtime_dir "$P")/.dpdkmp-$DEAD-fbarray_memseg-2048k-0-0_$DEAD" \
	"$(runtime_dir "$P")/.dpdkmp-$$-fbarray_memseg-2048k-0-0_$$"
DPMP_KEEP_RUNDIR=1 start_fs "$P" -- -- --mem-grow 64
pool_settle "$P" 2
[ ! -e "$(runtime_dir "$P")/.dpdkmp-$DEAD-fbarray_memseg-2048k-0-0_$DEAD" ] &&
	[ -e "$(runtime_dir "$P")/.dpdkmp-$$-fbarray_memseg-2048k-0-0_$$" ]
result $? "pool: a hidden file of a dead pid (an earlier primary's) is removed at start, a live pid's ($$) stays"
rm -f "$(runtime_dir "$P")/.dpdkmp-$$-fbarray_memseg-2048k-0-0_$$"
POOL=$(pool_wait "$P" 2)
PAGES=$(hugemaps "$P" "$(primary_pid "$P")" | wc -l)
PW=$(status_field "$P" pool_waiting)
[ -n "$POOL" ] && [ "$PW" = 2 ]
result $? "pool: 2 children wait by default ($POOL), dpdkmp status says $PW"
LISTS=$(lists "$P")
# pool_fds PIDS: "pid:fds/close-on-exec/locks" of each waiting child that is not (yet) as
# expected; a child forked moments ago may still be opening its files
pool_fds() {
	local p n c l fl bad=
	for p in "$@"; do
		n=$(find "/proc/$p/fd" -mindepth 1 2>/dev/null | wc -l)
		# the prepared files: close-on-exec (02000000 in fdinfo's octal flags), no lock
		c=0
		for fl in $( (hugefd_flags "$p"; arrayfd_flags "$p") | awk '{ print $NF }'); do
			(( 8#$fl & 8#2000000 )) && c=$((c + 1))
		done
		l=$(awk -v p="$p" '$5 == p' /proc/locks | wc -l)
		[ "$n" -eq $((5 + PAGES + LISTS)) ] && [ "$c" -eq $((PAGES + LISTS)) ] && [ "$l" -eq 0 ] ||
			bad="$bad $p:$n/$c/$l"
	done
	echo "$bad"
}
# PID: its fds on the hidden memseg array files it made while waiting
arrayfd_flags() { fd_flags "$1" "*/.dpdkmp-$1-fbarray_memseg-*_$1"; }
# pool_arrays PIDS: each waiting child whose hidden memseg arrays are not one per list of the
# primary's, of its size, zero-filled
pool_arrays() {
	local p f l n bad=
	for p in "$@"; do
		n=0
		for l in $(find "$(runtime_dir "$P")" -maxdepth 1 -regextype posix-extended \
			-regex '.*/fbarray_memseg-[^_]*'); do
			f=$(runtime_dir "$P")/.dpdkmp-$p-${l##*/}_$p
			[ -f "$f" ] && [ "$(stat -c %s "$f")" = "$(stat -c %s "$l")" ] &&
				cmp -s -n "$(stat -c %s "$f")" "$f" /dev/zero && n=$((n + 1))
		done
		[ "$n" -eq "$LISTS" ] || bad="$bad $p:$n"
	done
	echo "$bad"
}
for _ in $(seq 20); do
	bad=$(pool_fds $POOL)
	[ -z "$bad" ] && break
	sleep 0.1
done
[ -n "$POOL" ] && [ -z "$bad" ]
result $? "pool: each waiting child holds 5 fds (stdio, its socket, its run pipe) and one close-on-exec description of each of the $PAGES files and of its $LISTS memseg arrays, no lock" \
	"fds/close-on-exec/locks:$bad"
bad=$(pool_arrays $POOL)
[ -n "$POOL" ] && [ -z "$bad" ]
result $? "pool: each waiting child has made its $LISTS memseg arrays under hidden names, of the primary's sizes, zero-filled" \
	"made:$bad $(ls -a "$(runtime_dir "$P")")"
# A waiting child has faulted the mirrored pages in (fork copies no page tables of shared
# hugetlb mappings), so that EAL's first write to each page does not fault.
hugetlb_kb() { awk '/^Shared_Hugetlb:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps"; }
bad=
for p in $POOL; do
	n=$(hugetlb_kb "$p")
	[ "$n" -eq $((PAGES * 2048)) ] || bad="$bad $p:${n}kB"
done
[ -n "$POOL" ] && [ -z "$bad" ]
result $? "pool: each waiting child has the $PAGES mirrored pages faulted in" "Shared_Hugetlb:$bad"
# A waiting child has read each shared object's soname (every dlopen compares its name with
# them, loader.c): the page that holds it, in the object's first mapping, is resident. The
# broker, forked from the zygote as well and never loading anything, shows what fork leaves.
sonames() { # PID: "resident/all" first (offset 0, r--p) mappings of shared objects
	awk '/^[0-9a-f]+-[0-9a-f]+ / { f = $6 ~ /\.so/ && $2 == "r--p" && $3 == "00000000" }
	     f && /^Rss:/ { n++; if ($2 > 0) r++ } END { print r + 0 "/" n + 0 }' "/proc/$1/smaps"
}
BROKER=$(ps -o pid=,comm= --ppid "$(zygote_pid "$P")" | awk '$2 == "dpdkmp-broker" { print $1 }')
B_SO=$(sonames "$BROKER")
bad=
for p in $POOL; do
	n=$(sonames "$p")
	[ "${n%/*}" = "${n#*/}" ] && [ "${n#*/}" -gt 100 ] || bad="$bad $p:$n"
done
[ -n "$POOL" ] && [ -z "$bad" ] && [ -n "$BROKER" ] && [ "${B_SO%/*}" -lt $((${B_SO#*/} / 4)) ]
result $? "pool: each waiting child has the page of each shared object's soname resident (the broker: $B_SO)" \
	"resident/objects:$bad"
MADE=$(find "$(runtime_dir "$P")" -maxdepth 1 -name '.dpdkmp-*-fbarray_memseg-*' -printf '%i\n' | sort)
start_proc pooled 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$P" -- wait
wait_log pooled '^READY' 30
SP=$(secondary_pid pooled)
[ -n "$SP" ] && grep -qw "$SP" <<< "$POOL"
result $? "pool: the secondary (pid $SP) is one of the waiting children ($POOL)"
# the same inodes: made while waiting, renamed at EAL's lock
N=$(find "$(runtime_dir "$P")" -maxdepth 1 -name "fbarray_memseg-*_$SP" -printf '%i\n' | sort |
	comm -12 - <(echo "$MADE") | wc -l)
H=$(find "$(runtime_dir "$P")" -maxdepth 1 -name ".dpdkmp-$SP-*" | wc -l)
[ "$N" -eq "$LISTS" ] && [ "$H" -eq 0 ]
result $? "pool: the secondary's $N memseg arrays are the ones it made while waiting, under their names ($H hidden names left)"
stop_proc pooled
AFTER=$(pool_wait "$P" 2)
[ -n "$AFTER" ] && ! grep -qw "$SP" <<< "$AFTER"
result $? "pool: refilled to 2 ($AFTER)"
VICTIM=${AFTER%% *}
kill -KILL "$VICTIM"
wait_gone "$VICTIM" 10
REFILLED=$(pool_wait "$P" 2)
STRAY=$(stray_hidden "$P")
! grep -qw "$VICTIM" <<< "$REFILLED" && grep -q "pool child $VICTIM ended while waiting" "$(primary_log "$P")" &&
	[ -z "$STRAY" ]
result $? "pool: a waiting child killed ($VICTIM) is reaped, said, replaced ($REFILLED), and its hidden files removed" \
	"left: $STRAY"
run_timeout 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$P" -- exit 0 > /dev/null 2>&1
result $? "pool: secondaries still attach"
# A program that never gets to the end of rte_eal_init (EAL's --help exits in it): the zygote
# removes what its pool child made while waiting.
run_timeout 60 "$DPDKMP" run -- "$PROBE" --help > /dev/null 2>&1
STRAY=$(stray_hidden "$P")
[ -z "$STRAY" ]
result $? "pool: a program that exits inside rte_eal_init leaves no hidden file" "left: $STRAY"
BEFORE=$(pool_wait "$P" 2)
send_primary "$P" grow
wait_log "$P.primary" '^GROW ok' 30
gone=1
for p in $BEFORE; do wait_gone "$p" 10 || gone=0; done
NEW=$(pool_wait "$P" 2)
for p in $BEFORE; do grep -qw "$p" <<< "$NEW" && gone=0; done
STRAY=$(stray_hidden "$P")
[ $gone = 1 ] && [ -n "$NEW" ] && [ -z "$STRAY" ]
result $? "pool: the primary's memory changed: the waiting children ($BEFORE) are retired and gone with their hidden files, new ones wait ($NEW)" \
	"left: $STRAY"
stop_primary "$P"
gone=1
for p in $NEW; do wait_gone "$p" 10 || gone=0; done
result $((1 - gone)) "pool: no pool child outlives the primary"

P=$(dpmp_prefix fast_nopool)
start_fs "$P" DPDKMP_POOL=0
sleep 0.5
NP=$(pool_pids "$P")
run_timeout 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$P" -- exit 3 > /dev/null 2>&1
rc=$?
[ -z "$NP" ] && [ $rc -eq 3 ]
result $? "DPDKMP_POOL=0: no pool child, a secondary is forked for the request (exit $rc)"
stop_primary "$P"

# EAL's race between a secondary creating its private memseg arrays (fbarray files named after
# its pid) and another process's end-of-init cleaning of the runtime directory, which removes
# every fbarray file it can lock: one created and not locked yet is removed (and when the
# cleaner holds its lock at the wrong moment, the secondary fails: "couldn't lock"). A dpdkmp
# child holds the directory's lock from the create until its lock. DPDKMP_TEST_FBARRAY_DELAY_MS
# widens the window; a classic secondary cleans the directory in it.
P=$(dpmp_prefix fast_rundir)
start_fs "$P"
RD=$(runtime_dir "$P")
# the primary's memseg arrays: fbarray_memseg-2048k-0-0 ...; a secondary's: ..._PID
LISTS=$(lists "$P")
for how in locked unlocked; do
	env=(DPDKMP_TEST_FBARRAY_DELAY_MS=700)
	[ $how = unlocked ] && env+=(DPDKMP_TEST_RACY_FBARRAY=1)
	start_proc "rd.$how" 60 env "${env[@]}" "$DPDKMP" run -- "$PROBE" -l 1 --no-pci \
		--file-prefix "$P" -- wait
	for _ in $(seq 100); do
		[ -n "$(find "$RD" -maxdepth 1 -regextype posix-extended \
			-regex '.*/fbarray_memseg-[^_]*_[0-9]+')" ] && break
		sleep 0.02
	done
	run_timeout 60 "$PROBE" -l 1 --no-pci --file-prefix "$P" --proc-type=secondary -- exit 0 \
		> /dev/null 2>&1
	if wait_log "rd.$how" '^READY' 30; then
		SP=$(secondary_pid "rd.$how")
		N=$(find "$RD" -maxdepth 1 -name "fbarray_memseg-*_$SP" | wc -l)
		# mode, owner, size and links: as the primary's files (made by EAL's own open)
		[ $how = locked ] && PROPS=$(find "$RD" -maxdepth 1 -name "fbarray_memseg-*_$SP" \
			-printf '%m %u %g %s %n\n' | sort -u)
	else
		N=none
	fi
	[ $how = locked ] && R_LOCKED=$N || R_UNLOCKED=$N
	stop_proc "rd.$how"
done
PRI_PROPS=$(find "$RD" -maxdepth 1 -regextype posix-extended -regex '.*/fbarray_memseg-[^_]*' \
	-printf '%m %u %g %s %n\n' | sort -u)
[ "$R_LOCKED" = "$LISTS" ] && [ "$R_UNLOCKED" != none ] && [ "$R_UNLOCKED" -lt "$LISTS" ] &&
	[ "$PROPS" = "$PRI_PROPS" ]
result $? "runtime directory: a classic secondary's cleaning keeps the $R_LOCKED of $LISTS new memseg array files of a dpdkmp secondary (removes $((LISTS - ${R_UNLOCKED/none/0})) when they are made as EAL makes them); mode, owner, size, links: $PROPS" \
	"primary's: $PRI_PROPS"
stop_primary "$P"

# A snapshot that no longer matches the system: noticed, said, and EAL probes for real.
P=$(dpmp_prefix fast_stale)
start_fs "$P" DPDKMP_TEST_STALE_SNAPSHOT=1
STALE=$(topology "$P" dpdkmp)
[ "$STALE" = "$CLASSIC" ]
result $? "stale snapshot: EAL still detects the same topology ($STALE)"
DPDKMP_LOG=info run_timeout 60 "$DPDKMP" run -- "$PROBE" -l 1 --no-pci --file-prefix "$P" \
	-- exit 0 > /dev/null 2> "$TMPD/stale.err"
grep -q "topology changed since the fork server started" "$TMPD/stale.err" &&
	grep -q "plugin directory .* changed since the fork server started" "$TMPD/stale.err"
result $? "stale snapshot: the child says it falls back" "$(grep -v '^EAL' "$TMPD/stale.err")"
RC_STALE=$(refs "$P")
[ "$RC_STALE" = "$RC_ON" ]
result $? "stale snapshot: net_null's reference count is still $RC_STALE"
if command -v strace > /dev/null; then
	A=$(calls "$P" faccessat)
	R=$(calls "$P" readlink)
	[ "$A" -gt 1000 ] && [ "$R" -gt 1000 ]
	result $? "stale snapshot: EAL makes the real calls ($A access, $R readlink)"
else
	skip "stale snapshot: real calls" "strace is not installed"
fi
stop_primary "$P"
done_testing
