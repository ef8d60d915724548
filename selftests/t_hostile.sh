#!/bin/bash
# t_hostile: the fork server facing a hostile client of an allowed uid, speaking the wire
# protocol by hand (progs/rawclient): malformed records, lies about sizes and fds, requests in
# the wrong state, executables the policy refuses, idle connections and a flood. For each case:
# the documented reply, nothing forked; then the zygote still serves, holds no more fds than
# before and has not grown.
. "$(dirname "$0")/lib.sh"

PREFIX=$(unique_prefix hostile)
RAW=$PROGS/rawclient
PROBE=$PROGS/probe_secondary
SEC=(-l 1 --no-pci --file-prefix "$PREFIX")
RSS_SLACK_KB=2048       # the zygote may keep a freed STATUS buffer or two in its heap

start_primary "$PREFIX" env DPDKMP_LOG=info "$DPDKMP" primary -- "$PROGS/hash_primary" -l 0 \
	--no-pci --file-prefix "$PREFIX" -m 64
if wait_primary_line "$PREFIX" '^PRIMARY READY' > /dev/null && wait_socket "$PREFIX" &&
	ZYGOTE=$(zygote_pid "$PREFIX"); then
	ok "primary ready with its fork server (zygote pid $ZYGOTE)"
else
	not_ok "primary ready with its fork server"
	primary_output "$PREFIX" | diag_stream
	bail_out "no primary"
fi
SOCK=$(runtime_dir "$PREFIX")/dpdkmp.sock
# With the broker (it parses the clients' records for the zygote), a leak of received fds or
# memory would be in either process: both are measured, as sums.
BROKER=$(run_timeout 10 "$DPDKMP" status --file-prefix "$PREFIX" --json 2> /dev/null |
	sed -n 's/.*"broker_pid":\([1-9][0-9]*\).*/\1/p')
SERVERS="$ZYGOTE${BROKER:+ $BROKER}"
diag "fork server processes measured: zygote $ZYGOTE${BROKER:+, broker $BROKER}"

# raw CASE [ARGS...]: the RESULT line of one rawclient run, without "RESULT CASE ".
raw() {
	local out
	out=$(run_timeout 90 "$RAW" "$SOCK" "$@" 2>> "$TMPD/raw.err")
	out=$(grep -m1 '^RESULT ' <<< "$out")
	echo "${out#RESULT "$1" }"
}
spawned_count() { primary_output "$PREFIX" | grep -c "spawned"; }
zygote_fds() { local p; for p in $SERVERS; do ls "/proc/$p/fd"; done 2> /dev/null | wc -l; }
zygote_rss() {
	local p
	for p in $SERVERS; do cat "/proc/$p/status"; done 2> /dev/null |
		awk '/^VmRSS:/ { kb += $2 } END { print kb + 0 }'
}

# fds_back_to BASE: the zygote closes a connection once it has read the client's EOF, which
# may come a moment after the client exits; a leak is a count that stays above BASE.
fds_back_to() {
	local i
	pool_settle "$PREFIX"
	for ((i = 0; i < 50; i++)); do
		[ "$(zygote_fds)" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# good_spawn WHAT: probe_secondary `exit 0` through rawclient; sets GOOD_MS.
good_spawn() {
	local out
	out=$(raw good "$PROBE" "${SEC[@]}" -- exit 0)
	GOOD_MS=$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<< "$out")
	if [[ $out == "EXITED code=0 "* ]]; then
		ok "the fork server still serves $1 ($out)"
	else
		not_ok "the fork server still serves $1" "got: $out"
		diag_file "$TMPD/raw.err" 10
		GOOD_MS=
	fi
}

# expect CASE REGEX [ARGS...]: the outcome matches REGEX (extended, anchored at the start) and
# the zygote forked nothing for it.
expect() {
	local name=$1 re=$2 before after out
	shift 2
	before=$(spawned_count)
	out=$(raw "$name" "$@")
	after=$(spawned_count)
	if [[ $out =~ ^$re ]] && [ "$after" -eq "$before" ]; then
		ok "$name${1:+ $1}: $out; nothing forked"
	else
		not_ok "$name${1:+ $1}: want /^$re/ and no fork" "got: ${out:-no RESULT line}" \
			"spawned lines in the primary's log: $before before, $after after"
	fi
}

# Executables the policy being added must refuse: a world-writable copy (anyone could swap the
# code the zygote is about to run with its privileges) and a copy owned by another uid than
# root or the requester. Both are otherwise valid secondaries, so that only the policy can
# refuse them; if they run, they exit 0 at once.
cp "$PROBE" "$TMPD/probe_ww" && chmod 0777 "$TMPD/probe_ww" &&
	cp "$PROBE" "$TMPD/probe_nobody" && chmod 0755 "$TMPD/probe_nobody" &&
	chown 65534:65534 "$TMPD/probe_nobody" || bail_out "cannot prepare the executables"
chmod 0755 "$TMPD"      # mktemp -d is 0700; rawclient runs as root anyway, but be plain

# A first good spawn before measuring: the zygote's heap and fd table reach their steady state.
good_spawn "before the table"
BASE_MS=$GOOD_MS
# The zygote sends EXITED before it closes the connection and the child's pidfd: settle first,
# with the pool full again (3 fds per waiting child).
pool_settle "$PREFIX"
FDS0=$(zygote_fds)
for _ in $(seq 10); do
	sleep 0.1
	n=$(zygote_fds)
	[ "$n" -lt "$FDS0" ] && FDS0=$n
done
RSS0=$(zygote_rss)
SPAWNED0=$(spawned_count)
diag "fork server before the table: $FDS0 fds, VmRSS $RSS0 kB, $SPAWNED0 spawned lines"

# ---- the table ------------------------------------------------------------------------
# SOCK_SEQPACKET keeps record boundaries: after a record that is too short, too long (the
# kernel discards the excess and says MSG_TRUNC), has a bad header or lies about its length or
# fds, the next record still starts on a boundary. So the server can always reply, and the
# protocol says it does: ERROR with the errno of docs/PROTOCOL.md ("Receiving rejects"), then
# it closes. CLOSED is accepted only where no reply is possible (empty-record).
expect truncated-header 'ERROR EBADMSG '
expect wrong-magic 'ERROR EBADMSG '
expect future-version 'ERROR EPROTONOSUPPORT '
expect unknown-type 'ERROR EBADMSG ' 11
expect unknown-type 'ERROR EBADMSG ' 0
expect oversized-len 'ERROR EMSGSIZE '
expect short-payload 'ERROR EBADMSG '
# A zero-length record: recvmsg returns 0 exactly as at end of file, so a server that reads
# it as the client leaving (CLOSED) is right too; what it must not do is spin or keep it.
expect empty-record '(CLOSED|ERROR EBADMSG )'
# The client leaves right after HELLO without reading HELLO_ACK (the server's reply meets a
# closed socket: EPIPE, not SIGPIPE); a second connection is then served.
expect hello-then-close 'ALIVE'
# The state machine: SPAWN in state NEW.
expect spawn-without-hello 'ERROR EPROTO .*SPAWN.*not allowed'
# In state READY: a second HELLO, the server's own replies, the primary's WINDOWS, and the
# broker <-> zygote relay types (11-15 in the lead's proto.h: a client must never reach the
# zygote's side through them), each with a payload its size rule accepts where possible;
# then types no version defines. Known but misplaced: EPROTO; unknown: EBADMSG.
expect type-after-hello 'ERROR EPROTO .*HELLO.*not allowed' 1 8
for tl in 2:32 4:8 5:16 6:8 9:544 10:272 11:64 12:16 13:8 14:8 15:8 255:8 65535:8; do
	expect type-after-hello 'ERROR (EPROTO|EBADMSG) ' "${tl%:*}" "${tl#*:}"
done
# Limits the encoder refuses, encoded by hand: the decoder refuses them too.
expect argv-over 'ERROR E2BIG .*SPAWN'
expect env-over 'ERROR E2BIG .*SPAWN'
# The per-string limit has no errno of its own in PROTOCOL.md: E2BIG or EBADMSG.
expect string-over 'ERROR (E2BIG|EBADMSG) .*SPAWN'
# fds: more than the type allows (the header admits it), more than fit the server's control
# buffer (MSG_CTRUNC), fewer than the header says. The fd-leak check below covers them.
expect too-many-fds 'ERROR EBADMSG ' 5
expect too-many-fds 'ERROR (EMSGSIZE|EBADMSG) ' 250
expect wrong-fd-count 'ERROR EBADMSG '
expect exe-socket 'ERROR ENOEXEC .*not a regular file'
expect exe-dir 'ERROR ENOEXEC .*not a regular file' /
# The exe policy (ARCHITECTURE.md, Security; being added): refusal with EACCES or EPERM and a
# message naming the cause.
expect exe-world-writable 'ERROR (EACCES|EPERM) .*writable' "$TMPD/probe_ww" "${SEC[@]}" -- exit 0
expect exe-not-owned 'ERROR (EACCES|EPERM) .*own' "$TMPD/probe_nobody" "${SEC[@]}" -- exit 0

good_spawn "after the table"
fds_back_to "$FDS0"
result $? "no fd leak in the fork server after the table ($FDS0 fds before, $(zygote_fds) after)" \
	"$(for p in $SERVERS; do ls -l "/proc/$p/fd"; done 2>&1)"
RSS1=$(zygote_rss)
[ -n "$RSS1" ] && [ "$RSS1" -le $((RSS0 + RSS_SLACK_KB)) ]
result $? "fork server VmRSS within ${RSS_SLACK_KB} kB after the table ($RSS0 -> $RSS1 kB)"
# The good spawn must be counted, or the count proves nothing.
SPAWNED1=$(spawned_count)
[ "$SPAWNED1" -eq $((SPAWNED0 + 1)) ]
result $? "nothing forked for the whole table ($SPAWNED0 spawned lines before, $SPAWNED1 after one good spawn)"

# ---- slowloris ------------------------------------------------------------------------
# 100 connections that never send a byte, held 13 s: a good spawn meanwhile takes its normal
# time; each idle connection is closed with ERROR ETIMEDOUT about 10 s after it was accepted,
# not before.
: > "$TMPD/slow.err"
run_timeout 60 "$RAW" "$SOCK" slowloris 100 13 > "$TMPD/slow.out" 2> "$TMPD/slow.err" &
SLOW_PID=$!
for _ in $(seq 100); do
	grep -q 'connections open' "$TMPD/slow.err" && break
	sleep 0.1
done
diag "$(cat "$TMPD/slow.err")"
good_spawn "with 100 idle connections open"
LIMIT_MS=$((2 * ${BASE_MS:-5000} + 2000))
[ -n "$GOOD_MS" ] && [ "$GOOD_MS" -le "$LIMIT_MS" ]
result $? "that spawn took its normal time (${GOOD_MS:-?} ms; alone ${BASE_MS:-?} ms; limit $LIMIT_MS ms)"
wait "$SLOW_PID"
SLOW=$(sed -n 's/^RESULT slowloris //p' "$TMPD/slow.out")
first=$(sed -n 's/.*first_ms=\([0-9]*\).*/\1/p' <<< "$SLOW")
last=$(sed -n 's/.*last_ms=\([0-9]*\).*/\1/p' <<< "$SLOW")
[[ $SLOW == "COUNT closed=100 of=100 connected=100 etimedout=100 other=0 "* ]] &&
	[ "${first:-0}" -ge 9000 ] && [ "${last:-99999}" -le 12500 ]
result $? "100 idle connections closed with ETIMEDOUT after the 10 s idle timeout" "got: $SLOW"
# Past capacity (the zygote keeps 320 connections; a same-uid client can fill them): a
# launcher that connects then, and sends HELLO at once as `dpdkmp run` does, must be told why
# it is refused (the zygote means to send ERROR EAGAIN "too many connections"), not see the
# connection drop.
expect over-capacity 'ERROR EAGAIN .*too many connections' 330
good_spawn "after the idle connections"
fds_back_to "$FDS0"
result $? "no fd leak after the idle connections ($FDS0 fds before, $(zygote_fds) after)"

# ---- flood ----------------------------------------------------------------------------
# 1000 sequential connections, HELLO then STATUS_REQ or a SPAWN of /dev/null in turn: every
# one gets its proper reply (STATUS; ERROR ENOEXEC) and is closed, nothing is forked.
SPAWNED2=$(spawned_count)
FLOOD=$(raw flood 1000 mixed)
[[ $FLOOD == "COUNT ok=1000 of=1000 "* ]]
result $? "a flood of 1000 requests is answered, each properly ($FLOOD)"
SPAWNED3=$(spawned_count)
[ "$SPAWNED3" -eq "$SPAWNED2" ]
result $? "nothing forked for the flood ($SPAWNED2 spawned lines before, $SPAWNED3 after)"
fds_back_to "$FDS0"
result $? "no fd leak after the flood ($FDS0 fds before, $(zygote_fds) after)"
RSS2=$(zygote_rss)
[ -n "$RSS2" ] && [ "$RSS2" -le $((RSS0 + RSS_SLACK_KB)) ]
result $? "fork server VmRSS within ${RSS_SLACK_KB} kB after the flood ($RSS0 -> $RSS2 kB)"
good_spawn "after the flood"

check "the zygote is the same process throughout" [ "$(zygote_pid "$PREFIX")" = "$ZYGOTE" ]
[ -z "$BROKER" ] || check "the broker is the same process throughout" kill -0 "$BROKER"
stop_primary "$PREFIX" ""
done_testing
