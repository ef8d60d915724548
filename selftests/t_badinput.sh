#!/bin/bash
# t_badinput: every mistake a user can make with `dpdkmp run` gets a clear message naming the
# cause and the fix, the documented exit status, and nothing forked: the zygote spawns no
# child for any of them and keeps serving.
. "$(dirname "$0")/lib.sh"

PREFIX=$(unique_prefix bad)
SEC=(-l 1 --no-pci --file-prefix "$PREFIX")

# Programs that must be refused, built here.
cat > "$TMPD/tls.c" <<'C'
#include <rte_eal.h>
__thread int t;
int main(int c, char **v) { t = c; return rte_eal_init(c, v) < 0 ? 2 : 0; }
C
cat > "$TMPD/plain.c" <<'C'
int main(void) { return 0; }
C
cat > "$TMPD/abi.c" <<'C'
int rte_eal_init(int c, char **v);
int main(int c, char **v) { return rte_eal_init(c, v); }
C
CFLAGS_DPDK=$(pkg-config --cflags libdpdk)
LIBS_DPDK=$(pkg-config --libs libdpdk)
cc $CFLAGS_DPDK -o "$TMPD/tls" "$TMPD/tls.c" $LIBS_DPDK &&
cc $CFLAGS_DPDK -fno-pie -no-pie -o "$TMPD/nopie" "$TMPD/tls.c" $LIBS_DPDK &&
cc -static -o "$TMPD/static" "$TMPD/plain.c" &&
cc -o "$TMPD/nodpdk" "$TMPD/plain.c" &&
echo 'int rte_eal_init(int c, char **v) { return c + (v != 0); }' > "$TMPD/eal24.c" &&
cc -shared -fPIC -Wl,-soname,librte_eal.so.24 -o "$TMPD/librte_eal.so.24" "$TMPD/eal24.c" &&
cc -o "$TMPD/otherabi" "$TMPD/abi.c" -L"$TMPD" -l:librte_eal.so.24 ||
	bail_out "cannot build the test programs"
printf 'not an ELF\n' > "$TMPD/text"
chmod +x "$TMPD/text"
cp "$PROGS/probe_secondary" "$TMPD/noexec"
chmod -x "$TMPD/noexec"

# expect_refusal DESC RC REGEX PROGRAM [ARGS...]
expect_refusal() {
	local desc=$1 want=$2 re=$3
	shift 3
	timeout 60 "$DPDKMP" run -- "$@" "${SEC[@]}" < /dev/null > /dev/null 2> "$TMPD/err"
	local rc=$?
	if [ "$rc" -eq "$want" ] && grep -qE "$re" "$TMPD/err"; then
		ok "$desc: exit $rc, \"$(head -c 160 "$TMPD/err" | tr '\n' ' ')\""
	else
		not_ok "$desc: want exit $want and /$re/, got exit $rc"
		diag_stream < "$TMPD/err"
	fi
}

# No primary at all.
expect_refusal "no fork server for the prefix" 1 \
	"no dpdkmp fork server for file prefix '$PREFIX'.*Start the primary with .dpdkmp primary" \
	"$PROGS/probe_secondary"

# A stale socket: primary and zygote killed without a chance to clean up.
STALE=$(dpmp_prefix stale)
start_primary "$STALE" "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$STALE" -m 64
if wait_primary "$STALE" '^PRIMARY READY' && wait_socket "$STALE" && Z=$(zygote_pid "$STALE"); then
	kill -KILL "$Z" "$(primary_pid "$STALE")"
	wait_gone "$Z" 10
	stop_primary "$STALE" ""
	SEC=(-l 1 --no-pci --file-prefix "$STALE")
	expect_refusal "stale socket of a dead primary" 1 "is gone \(stale socket.*restart it" \
		"$PROGS/probe_secondary"
	SEC=(-l 1 --no-pci --file-prefix "$PREFIX")
else
	not_ok "stale socket of a dead primary" "$(diag_file "$(primary_log "$STALE")")"
fi
cleanup_prefix "$STALE"

start_primary "$PREFIX" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 --no-pci \
	--file-prefix "$PREFIX" -m 64
wait_primary_line "$PREFIX" '^PRIMARY READY' > /dev/null && wait_socket "$PREFIX" || {
	primary_output "$PREFIX" | diag_stream
	bail_out "no primary"
}
spawned_before=$(primary_output "$PREFIX" | grep -c "spawned")

expect_refusal "missing file" 127 "no such file \(check the path" "$TMPD/does-not-exist"
expect_refusal "bare name not in PATH" 127 "no such file \(check the path, or PATH" dpdkmp-no-such-program
expect_refusal "directory" 126 "not a regular file" "$TMPD"
expect_refusal "file without execute permission" 126 "not executable \(chmod \+x" "$TMPD/noexec"
expect_refusal "not an ELF file" 126 "not an ELF executable" "$TMPD/text"
expect_refusal "static executable" 126 "statically linked.*not --static" "$TMPD/static"
expect_refusal "non-PIE executable" 126 "not position-independent.*-fPIE -pie" "$TMPD/nopie"
expect_refusal "another DPDK ABI" 126 "links librte_eal.so.24, another DPDK ABI.*rebuild" "$TMPD/otherabi"
expect_refusal "not a DPDK program" 126 "does not link librte_eal.so.23" "$TMPD/nodpdk"
expect_refusal "different binary with thread-local storage" 126 \
	"thread-local storage.*move the thread-local variables" "$TMPD/tls"
expect_refusal "dpdk-testpmd under another primary (TLS)" 126 "thread-local storage" /usr/bin/dpdk-testpmd
expect_refusal "--proc-type=primary" 126 "a program run through dpdkmp is a secondary" \
	"$PROGS/probe_secondary" --proc-type=primary

spawned_mid=$(primary_output "$PREFIX" | grep -c "spawned")
timeout 60 "$DPDKMP" run -- "$PROGS/probe_secondary" "${SEC[@]}" -- exit 0 > /dev/null 2>&1
verdict "the fork server still serves" $?
spawned_after=$(primary_output "$PREFIX" | grep -c "spawned")
# The good run must be counted, or the count proves nothing.
[ "$spawned_mid" -eq "$spawned_before" ] && [ "$spawned_after" -eq $((spawned_before + 1)) ]
verdict "nothing was forked for any of them (spawns: $spawned_before, $spawned_mid, then $spawned_after)" $?
