#!/bin/bash
# t_install: `meson install` puts the CLI, the library, its header and pkg-config file in
# place, and a program built against the installed dpdkmp.pc (libdpdkmp linked, not
# preloaded) runs as a primary whose own secondaries, exec'ed as dpdk-test does, are forked
# by the fork server.
. "$(dirname "$0")/lib.sh"

ROOT=$TMPD/root
PREFIX=$(dpmp_prefix install)

run_timeout 120 meson install -C "$BUILD" --no-rebuild --quiet --destdir "$ROOT" > "$TMPD/install.log" 2>&1
result $? "meson install --destdir" "$(tail -5 "$TMPD/install.log")"
BIN=$(find "$ROOT" -path '*/bin/dpdkmp' -type f | head -1)
LIB=$(find "$ROOT" -name 'libdpdkmp.so' | head -1)
HDR=$(find "$ROOT" -name 'dpdkmp.h' | head -1)
PC=$(find "$ROOT" -name 'dpdkmp.pc' | head -1)
check "installs bin/dpdkmp ($BIN)" [ -x "$BIN" ]
check "installs libdpdkmp.so ($LIB)" [ -f "$LIB" ]
check "installs dpdkmp.h ($HDR)" [ -f "$HDR" ]
check "installs dpdkmp.pc ($PC)" [ -f "$PC" ]
OUT=$("$BIN" --version)
check "the installed CLI runs: $OUT" grep -q "^dpdkmp [0-9]" <<< "$OUT"

# The staged dpdkmp.pc names the final prefix: point it at the staging root (only it;
# libdpdk.pc stays the system's).
mkdir -p "$TMPD/pc"
sed "s|^prefix=|prefix=$ROOT|" "$PC" > "$TMPD/pc/dpdkmp.pc"
export PKG_CONFIG_PATH=$TMPD/pc
FLAGS=$(pkg-config --cflags --libs dpdkmp)
check "pkg-config dpdkmp: $FLAGS" grep -q -- "-ldpdkmp" <<< "$FLAGS"
cc $(pkg-config --cflags dpdkmp) -o "$TMPD/probe" "$SRC/selftests/progs/probe_secondary.c" \
	$(pkg-config --libs dpdkmp) > "$TMPD/cc.log" 2>&1
result $? "a program builds against the installed dpdkmp.pc" "$(cat "$TMPD/cc.log")"
FIRST=$(readelf -d "$TMPD/probe" 2>/dev/null | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | head -1)
check "libdpdkmp comes first among its libraries ($FIRST)" [ "$FIRST" = libdpdkmp.so ]

OUT=$(LD_LIBRARY_PATH=$(dirname "$LIB") DPDKMP_LOG=info run_timeout 60 "$TMPD/probe" -l 0 --no-pci \
	--file-prefix="$PREFIX" -m 64 -- selfexec 2>&1)
grep -q "^SELFEXEC status=7$" <<< "$OUT" && grep -q "zygote.*spawned" <<< "$OUT"
result $? "linked primary: its self-exec'ed secondary is forked by the zygote" "$OUT"
