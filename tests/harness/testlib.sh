# testlib.sh: assertions for integration tests that drive the real drctl.
# Source it; it sets `set -u`, makes a work folder $T removed at exit, and
# gives: run (captures $OUT, $ERR, $RC), expect_rc, expect_out/expect_err
# (grep -E), fail, pass_note, drctl_init_in FOLDER, require_tools TOOL...
# (fail unless each is installed) and with_tmpfs SIZE DIR FUNCTION (run
# FUNCTION with a small file system on DIR, root or not).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/require.sh"
: "${DRCTL:?DRCTL must point at the drctl binary (ctest sets it)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/drctl-it.XXXXXX")
_testlib_cleanup() { local rc=$?; [ -n "${TESTLIB_KEEP:-}" ] || rm -rf "$T"; exit $rc; }
trap _testlib_cleanup EXIT
CHECKS=0

fail() { echo "FAIL: $*" >&2; [ -n "${OUT:-}" ] && echo "--- stdout:" >&2 && echo "$OUT" | tail -20 >&2; [ -n "${ERR:-}" ] && echo "--- stderr:" >&2 && echo "$ERR" | tail -20 >&2; exit 1; }
pass_note() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
  local o e
  o=$(mktemp "$T/out.XXXXXX"); e=$(mktemp "$T/err.XXXXXX")
  set +e; "$@" >"$o" 2>"$e"; RC=$?; set -e
  OUT=$(cat "$o"); ERR=$(cat "$e"); rm -f "$o" "$e"
}
expect_rc() { [ "$RC" = "$1" ] || fail "${2:-command}: exit status $RC, expected $1"; pass_note "${2:-command} exits $1"; }
# (grep reads a here-string, not a pipe: with pipefail, `echo | grep -q` fails
# at random when grep exits on an early line while echo still writes.)
expect_out() { grep -Eq -- "$1" <<<"$OUT" || fail "${2:-stdout} should match /$1/"; pass_note "${2:-stdout matches /$1/}"; }
expect_err() { grep -Eq -- "$1" <<<"$ERR" || fail "${2:-stderr} should match /$1/"; pass_note "${2:-stderr matches /$1/}"; }
expect_no_err() { if grep -Eq -- "$1" <<<"$ERR"; then fail "${2:-stderr} should not match /$1/"; fi; pass_note "${2:-stderr does not match /$1/}"; }

# drctl_init_in DIR: a fresh drctl setup (config, keys, repository) in DIR;
# sets CONF and REPO.
drctl_init_in() {
  CONF="$1/drctl.conf"; REPO="$1/repo"
  "$DRCTL" --config "$CONF" init --repository "$REPO" --state-dir "$1/state" >/dev/null
}
d() { "$DRCTL" --config "$CONF" "$@"; }

# with_tmpfs SIZE DIR FUNCTION: runs FUNCTION with a tmpfs of SIZE (as
# mount's size=, e.g. 3m) mounted on DIR, for the cases that need a small or
# full disk.  The mount lives in a mount namespace of its own, so only
# FUNCTION and what it starts see it, and it goes away with them: as root
# through `unshare --mount`, otherwise in a user namespace where the test is
# root (`unshare --user --map-root-user --mount`, which needs unprivileged
# user namespaces, as Debian 12 allows).  FUNCTION runs in a child bash that
# is given this shell's options, functions and variables; the checks it
# passes count in $CHECKS, and its failure fails the test.
with_tmpfs() {
  local _wt_size=$1 _wt_dir=$2 _wt_fn=$3 _wt_ctx _wt_ns
  require_tools unshare mount
  if [ "$(id -u)" = 0 ]; then _wt_ns=(unshare --mount); else _wt_ns=(unshare --user --map-root-user --mount); fi
  if ! "${_wt_ns[@]}" true 2>/dev/null; then
    # In a chroot (a fresh Debian root, a build container) the kernel refuses
    # a new mount namespace; root can still mount the tmpfs in place, and it
    # is unmounted when FUNCTION ends.
    [ "$(id -u)" = 0 ] ||
      fail "cannot make a mount namespace for a $_wt_size tmpfs on $_wt_dir ('${_wt_ns[*]}' failed): run the test as root, or allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1)"
    _wt_ns=(env DRCTL_TMPFS_UNMOUNT=1)
  fi
  mkdir -p "$_wt_dir"
  _wt_ctx=$(mktemp "$T/with_tmpfs.XXXXXX")
  _testlib_state >"$_wt_ctx"
  # shellcheck disable=SC2016 # expanded by the child
  "${_wt_ns[@]}" bash -c '. "$1" && mount -t tmpfs -o "size=$2" tmpfs "$3" || fail "cannot mount a $2 tmpfs on $3"
    [ -z "${DRCTL_TMPFS_UNMOUNT:-}" ] || trap "umount -l \"$3\"" EXIT
    "$4"; rc=$?; [ "$rc" = 0 ] || exit "$rc"
    echo "$CHECKS" >"$1.checks"' with_tmpfs "$_wt_ctx" "$_wt_size" "$_wt_dir" "$_wt_fn" ||
    { echo "FAIL: $_wt_fn (with a $_wt_size tmpfs on $_wt_dir) failed, see above" >&2; exit 1; }
  CHECKS=$(cat "$_wt_ctx.checks")
  rm -f "$_wt_ctx" "$_wt_ctx.checks"
}

# This shell's variables (those not exported, which the child gets anyway,
# and not bash's own), functions and errexit/nounset/pipefail, as commands.
_testlib_state() {
  local _v _decl _attrs
  for _v in $(compgen -v); do
    case $_v in
    BASH* | COMP_* | DIRSTACK | EPOCH* | EUID | FUNCNAME | GROUPS | HISTCMD | IFS | LINENO | OPTARG | OPTERR | OPTIND | \
      PIPESTATUS | PPID | PS[0-9] | RANDOM | SECONDS | SHELLOPTS | SHLVL | SRANDOM | UID | _ | _v | _decl | _attrs | _wt_*) continue ;;
    esac
    _decl=$(declare -p "$_v" 2>/dev/null) || continue
    _attrs=${_decl#declare }; _attrs=${_attrs%% *}
    case $_attrs in *[rx]*) continue ;; esac
    printf '%s\n' "$_decl"
  done
  declare -f
  set +o | grep -E ' (errexit|nounset|pipefail)$'
}
