# Sourced by docker/build-offline.sh and the image test: how podman runs on this kind of host.
#   PODMAN            podman and its global flags
#   PODMAN_RUN_FLAGS  flags for `podman build` and `podman run`
# Override either by setting PODMAN_GLOBAL_FLAGS / PODMAN_RUN_FLAGS_EXTRA in the environment.

need_tools() { # name... → exit 1 naming what is missing, and how to get it on Debian
  local missing=() t
  for t in "$@"; do command -v "$t" > /dev/null 2>&1 || missing+=("$t"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]} (on Debian: apt-get install podman runc debootstrap)" >&2
    exit 1
  fi
}

PODMAN=(podman)
if [ -n "${PODMAN_GLOBAL_FLAGS:-}" ]; then
  read -r -a extra <<< "$PODMAN_GLOBAL_FLAGS"
  PODMAN+=("${extra[@]}")
else
  # crun needs a pure cgroup v2 host; runc also copes with hybrid v1/v2 hierarchies.
  if [ -d /sys/fs/cgroup/unified ] && command -v runc > /dev/null 2>&1; then PODMAN+=(--runtime runc); fi
  # Without systemd as PID 1 there is no systemd cgroup manager to talk to.
  if [ ! -d /run/systemd/system ]; then PODMAN+=(--cgroup-manager=cgroupfs); fi
fi

# Host networking (no slirp/netavark needed, and loopback is the host's), and ulimits no higher
# than this shell's: podman's defaults can exceed what a host without CAP_SYS_RESOURCE allows.
# nproc also stays at or below 32768: podman 4 lowers its own RLIMIT_NPROC to that, and runc
# cannot raise it again (measured: 32769 fails with "error setting rlimit type 6").
shell_limit() { # ulimit flag, cap → the shell's soft limit, at most cap
  local v; v="$(ulimit "$1")"
  if [ "$v" = unlimited ] || [ "$v" -gt "$2" ]; then v="$2"; fi
  echo "$v"
}
nofile="$(shell_limit -n 1048576)"
nproc="$(shell_limit -u 32768)"
PODMAN_RUN_FLAGS=(--network host --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
if [ -n "${PODMAN_RUN_FLAGS_EXTRA:-}" ]; then
  read -r -a extra <<< "$PODMAN_RUN_FLAGS_EXTRA"
  PODMAN_RUN_FLAGS+=("${extra[@]}")
fi
