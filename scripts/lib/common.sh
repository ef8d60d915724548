# scripts/lib/common.sh: sourced by scripts/setup, scripts/test and scripts/demo. The repository
# root, messages, and the one way the project is configured and built.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BUILD:=$REPO/build}"
PROG=$(basename "$0")

say() { echo "$PROG: $*"; }
warn() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

need_root()
{
	[ "$(id -u)" -eq 0 ] || die "must run as root (it sets up hugepages and /var/run/dpdk): sudo $0 $*"
}

# quietly LOG CMD...: CMD with its output in LOG; on failure the end of LOG goes to stderr.
quietly()
{
	local log=$1
	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	local rc=$?
	warn "failed ($rc): $*"
	tail -n 40 "$log" | sed 's/^/    /' >&2
	warn "full log: $log"
	return $rc
}

run_setup() { "$REPO/scripts/setup" || die "host setup failed (scripts/setup)"; }

# build_project: configure (or reconfigure) $BUILD as debugoptimized, then ninja. Quiet unless
# it fails.
build_project()
{
	local log
	mkdir -p "$BUILD" || die "cannot create $BUILD"
	log=$BUILD/build.log
	if [ -f "$BUILD/build.ninja" ]; then
		quietly "$log.setup" meson setup --reconfigure --buildtype=debugoptimized "$BUILD" "$REPO" ||
			die "meson setup --reconfigure failed"
	else
		quietly "$log.setup" meson setup --buildtype=debugoptimized "$BUILD" "$REPO" ||
			die "meson setup failed"
	fi
	quietly "$log" ninja -C "$BUILD" || die "build failed"
}
