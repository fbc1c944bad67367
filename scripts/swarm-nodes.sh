#!/usr/bin/env bash
# A Docker Swarm of N nodes on this one machine, for tests (tests/swarm/). Each node is a dockerd (with a
# containerd of its own) in a network namespace of its own, with its own hostname (a UTS namespace), data and
# exec roots, socket, and cgroup parent. The nodes' veths meet on a bridge in another namespace, which also
# holds a read-only docker-registry serving the local registry's storage (the test images of
# scripts/build-test-images.sh), set as the nodes' mirror and insecure registry; a veth from the host to that
# bridge lets the host reach the nodes' addresses (published ports). When the private registry of
# scripts/start-services.sh --test exists (htpasswd auth, 127.0.0.1:5001), a second read-only docker-registry
# serves its storage with the same htpasswd file on ADDR:5001 (an insecure registry of the nodes, no mirror):
# the nodes' pulls there need the credentials a service carries. Node 1 runs `swarm init`, the others join; an
# attachable overlay network is created.
#
#   swarm-nodes.sh up N [NAME]   start an N-node swarm (NAME: default wfs + 5 random hex digits); prints its
#                                description as shell assignments (also in /run/workflow-swarm/NAME/cluster.env):
#                                SWARM_NAME, SWARM_NODES, SWARM_NODE<i>_HOST (unix:///run/workflow-swarm/NAME-n<i>.sock),
#                                SWARM_NODE<i>_ADDR, SWARM_NODE<i>_HOSTNAME, SWARM_NODE<i>_NETNS, SWARM_REGISTRY
#                                (ADDR:5000), SWARM_PRIVATE_REGISTRY (ADDR:5001, or empty), SWARM_HOST_ADDR,
#                                SWARM_NETWORK. On failure it tears down what it made.
#   swarm-nodes.sh down NAME     tear it down: dockerds, containerds, the nodes' containers (their cgroups),
#                                mounts, registry, namespaces, veths, state. Idempotent; never fails.
#   swarm-nodes.sh kill-node NAME I    node I dies: SIGKILL to its dockerd, containerd, shims and containers
#   swarm-nodes.sh start-node NAME I   start node I's containerd and dockerd again (it rejoins the swarm)
#   swarm-nodes.sh gc            tear down every cluster whose owner process (SWARM_OWNER_PID at `up`, default
#                                the caller of the script) is gone: what a killed test run left behind.
#
# Environment: SWARM_MANAGERS (default 1: node 1 manages, the others are workers), SWARM_OWNER_PID,
# SWARM_REGISTRY_DATA (default /var/lib/workflow-test/registry/data, the storage of the registry on
# 127.0.0.1:5000), SWARM_PRIVATE_REGISTRY_DIR (default /var/lib/workflow-test/private-registry: its data/ and
# htpasswd). Must run as root. `ip netns exec` is not used: it remounts /sys, and dockerd then fails
# with "Devices cgroup isn't mounted"; `nsenter --net` keeps the host's mounts.
# Where the kernel has no IPVS (the test machines: no ip_vs), service VIPs and the ingress routing mesh do not
# work: reach tasks by their addresses or `tasks.SERVICE` (DNS round robin), and publish ports in host mode.
set -euo pipefail

run_dir=/run/workflow-swarm
lib_dir=/var/lib/workflow-swarm
registry_data="${SWARM_REGISTRY_DATA:-/var/lib/workflow-test/registry/data}"
private_dir="${SWARM_PRIVATE_REGISTRY_DIR:-/var/lib/workflow-test/private-registry}"

log() { printf '[swarm-nodes] %s\n' "$*" >&2; }

usage() { sed -n '2,29p' "$0" >&2; exit 2; }

valid_name() { [[ "$1" =~ ^wfs[0-9a-f]{5}$ ]] || { log "bad cluster name '$1' (wfs + 5 hex digits)"; exit 2; }; }

# --- teardown (each step tolerates what is already gone) -----------------------------------------------
kill_pidfile() {  # pidfile comm: SIGTERM, up to 30 s, then SIGKILL; only if the pid is still that program
  local pidfile="$1" comm="$2" pid
  pid="$(cat "$pidfile" 2>/dev/null)" || return 0
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
}

kill_cgroups() {  # name: SIGKILL every process in the cgroups of the cluster's nodes, until none is left
  local cg pid left
  for _ in $(seq 1 20); do
    left=0
    for cg in $(find /sys/fs/cgroup -path "*/workflow-swarm/$1-n*" -name cgroup.procs 2>/dev/null); do
      { while read -r pid; do left=1; kill -KILL "$pid" 2>/dev/null; done < "$cg"; } 2>/dev/null  # may be gone
    done
    [ "$left" = 0 ] && return 0
    sleep 0.2
  done
}

down() {
  local name="$1" node dir pid cg mnt
  valid_name "$name"
  set +e  # a teardown goes on past what fails
  # The nodes' containers first, by the processes in their cgroups (each started by these nodes): a test
  # cluster needs no graceful stop, and dockerds with no containers to stop exit at once.
  kill_cgroups "$name"
  local program stoppers
  for program in dockerd containerd; do
    stoppers=()  # (a bare `wait` would wait for the registry too, when `up` fails)
    for dir in "$run_dir/$name"/n*/; do
      [ -d "$dir" ] || continue
      kill_pidfile "$dir/$program.pid" "$program" &
      stoppers+=($!)
    done
    for pid in "${stoppers[@]}"; do wait "$pid"; done
  done
  kill_cgroups "$name"  # anything a dockerd started while going down
  find /sys/fs/cgroup -depth -type d -path "*/workflow-swarm/$name-n*" -exec rmdir {} + 2>/dev/null || true
  for node in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$name-n[0-9]+$" || true); do
    for pid in $(ip netns pids "$node" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  kill_pidfile "$run_dir/$name/registry.pid" docker-registry
  kill_pidfile "$run_dir/$name/private-registry.pid" docker-registry
  # mounts under the nodes' roots (overlay layers, network namespaces of their containers), deepest first
  { awk '{print $2}' /proc/mounts | grep -E "^($run_dir|$lib_dir)/$name(/|$)" || true; } | sort -r | while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done
  for node in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$name-(br|n[0-9]+)$" || true); do
    ip netns del "$node" 2>/dev/null || true
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$name-" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  rm -rf "${run_dir:?}/$name" "${lib_dir:?}/$name" "$run_dir/$name"-n*.sock
  log "$name is down"
}

gc() {
  local dir name owner
  for dir in "$run_dir"/wfs*/; do
    [ -d "$dir" ] || continue
    name="$(basename "$dir")"
    owner="$(cat "$dir/owner" 2>/dev/null || true)"
    # gone, or a zombie nobody reaped yet
    if [ -z "$owner" ] || ! kill -0 "$owner" 2>/dev/null \
        || [ "$(sed 's/.*) //' "/proc/$owner/stat" 2>/dev/null | cut -c1)" = Z ]; then
      log "removing $name (its owner ${owner:-?} is gone)"
      down "$name"
    fi
  done
}

# --- up --------------------------------------------------------------------------------------------------
node_docker() { docker -H "unix://$run_dir/$name-n$1.sock" "${@:2}"; }

free_subnet() {  # the third octet of a 10.213.X.0/24 no interface or route of this machine uses
  local used x
  used="$(ip -4 -o addr show; ip -4 route show table all)"
  for x in $(seq 1 250); do
    grep -q "10\.213\.$x\." <<<"$used" || { echo "$x"; return 0; }
  done
  return 1
}

configure_node() {  # i: the node's containerd and dockerd configuration
  local i="$1" state="$run_dir/$name/n$1" data="$lib_dir/$name/n$1"
  local insecure="\"$registry\""
  [ -z "$private_registry" ] || insecure+=", \"$private_registry\""
  mkdir -p "$state/containerd" "$data"
  cat > "$state/containerd.toml" <<TOML
version = 2
root = "$data/containerd"
state = "$state/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$state/containerd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$data/opt"
TOML
  cat > "$state/daemon.json" <<JSON
{
  "registry-mirrors": ["http://$registry"],
  "insecure-registries": [$insecure]
}
JSON
}

start_node() {  # i: containerd, then dockerd, in the node's namespaces; returns once the engine answers
  local i="$1" node="$name-n$1"
  local state="$run_dir/$name/n$i" data="$lib_dir/$name/n$i"
  rm -f "$state/containerd/containerd.sock"  # a killed node's
  setsid nsenter --net="/run/netns/$node" containerd --config "$state/containerd.toml" \
    >>"$state/containerd.log" 2>&1 </dev/null &
  echo $! > "$state/containerd.pid"
  for _ in $(seq 1 60); do [ -S "$state/containerd/containerd.sock" ] && break; sleep 0.25; done
  # its own UTS namespace: a hostname per node (swarm lists nodes and places tasks by it)
  setsid nsenter --net="/run/netns/$node" unshare --uts sh -c 'hostname "$0" && exec dockerd "$@"' "$node" \
    --config-file "$state/daemon.json" --data-root "$data/docker" --exec-root "$state/exec" \
    -H "unix://$run_dir/$node.sock" --pidfile "$state/dockerd.pid" \
    --containerd "$state/containerd/containerd.sock" --cgroup-parent "/workflow-swarm/$node" --shutdown-timeout 5 \
    >>"$state/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do node_docker "$i" info >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "node $node: dockerd did not answer within 60 s"
  tail -20 "$state/containerd.log" "$state/dockerd.log" >&2
  return 1
}

kill_node() {  # i: the node dies at once: its dockerd, containerd, shims and containers get SIGKILL
  local i="$1" node="$name-n$1" pid cg
  local state="$run_dir/$name/n$i"
  for program in dockerd containerd; do
    pid="$(cat "$state/$program.pid" 2>/dev/null || true)"
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$program" ] && kill -KILL "$pid"
  done
  for pid in $(ip netns pids "$node" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  for cg in $(find /sys/fs/cgroup -path "*/workflow-swarm/$node/*" -name cgroup.procs 2>/dev/null); do
    { while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$cg"; } 2>/dev/null || true
  done
  log "node $node killed"
}

serve_registry() {  # NAME ROOT ADDR [HTPASSWD]: a read-only docker-registry over ROOT on ADDR in the bridge's
  # namespace (with HTPASSWD: pulls need its credentials); config, log and pid as $run_dir/$name/NAME.*
  local conf="$run_dir/$name/$1.yml"
  cat > "$conf" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $2
  maintenance:
    readonly:
      enabled: true
    uploadpurging:
      enabled: false
http:
  addr: $3
YML
  if [ -n "${4:-}" ]; then
    printf 'auth:\n  htpasswd:\n    realm: workflow-private\n    path: %s\n' "$4" >> "$conf"
  fi
  setsid nsenter --net="/run/netns/$bridge_ns" docker-registry serve "$conf" >"$run_dir/$name/$1.log" 2>&1 </dev/null &
  echo $! > "$run_dir/$name/$1.pid"
}

up() {  # called with the checks done and the teardown trap set (see the end of this file)
  local count="$1" i x bridge_ns token pids=()
  mkdir -p "$run_dir/$name" "$lib_dir/$name"
  echo "${SWARM_OWNER_PID:-$PPID}" > "$run_dir/$name/owner"

  # one subnet per cluster on this machine (the host's veth puts it in the host's routing table)
  exec 8>"$run_dir/.lock"
  flock 8
  x="$(free_subnet)" || { log "no free 10.213.X.0/24"; false; }
  net="10.213.$x"
  registry="$net.254:5000"
  bridge_ns="$name-br"
  ip netns add "$bridge_ns"
  ip -n "$bridge_ns" link set lo up
  ip -n "$bridge_ns" link add br0 type bridge
  ip -n "$bridge_ns" addr add "$net.254/24" dev br0
  ip -n "$bridge_ns" link set br0 up
  ip link add "$name-h" type veth peer name "$name-hb"
  ip link set "$name-hb" netns "$bridge_ns"
  ip -n "$bridge_ns" link set "$name-hb" master br0 up
  ip addr add "$net.253/24" dev "$name-h"
  ip link set "$name-h" up
  flock -u 8
  for i in $(seq 1 "$count"); do
    ip netns add "$name-n$i"
    ip -n "$name-n$i" link set lo up
    ip link add "$name-$i" type veth peer name "$name-${i}b"
    ip link set "$name-$i" netns "$name-n$i"
    ip -n "$name-n$i" link set "$name-$i" name eth0
    ip -n "$name-n$i" addr add "$net.$i/24" dev eth0
    ip -n "$name-n$i" link set eth0 up
    ip link set "$name-${i}b" netns "$bridge_ns"
    ip -n "$bridge_ns" link set "$name-${i}b" master br0 up
  done

  # the registry: read-only over the local registry's storage (what is pushed there is seen here at once)
  serve_registry registry "$registry_data" "$registry"
  private_registry=""
  if [ -s "$private_dir/htpasswd" ] && [ -d "$private_dir/data" ]; then
    private_registry="$net.254:5001"
    serve_registry private-registry "$private_dir/data" "$private_registry" "$private_dir/htpasswd"
  fi

  for i in $(seq 1 "$count"); do configure_node "$i"; start_node "$i" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
  curl -fsS -m 5 -o /dev/null "http://$registry/v2/" || { log "registry $registry does not answer"; false; }
  if [ -n "$private_registry" ] \
      && [ "$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://$private_registry/v2/")" != 401 ]; then
    log "private registry $private_registry does not ask for credentials"; false
  fi

  # heartbeats every 2 s (default 5 s): a dead node is seen as down in seconds
  node_docker 1 swarm init --advertise-addr "$net.1" --listen-addr "$net.1:2377" --dispatcher-heartbeat 2s \
    >/dev/null
  local managers="${SWARM_MANAGERS:-1}"
  for i in $(seq 2 "$count"); do
    if [ "$i" -le "$managers" ]; then token="$(node_docker 1 swarm join-token -q manager)"
    else token="$(node_docker 1 swarm join-token -q worker)"; fi
    node_docker "$i" swarm join --token "$token" --advertise-addr "$net.$i" --listen-addr "$net.$i:2377" \
      "$net.1:2377" >/dev/null
  done
  node_docker 1 network create --driver overlay --attachable workflow-overlay >/dev/null

  {
    printf 'SWARM_NAME=%s\nSWARM_NODES=%s\n' "$name" "$count"
    for i in $(seq 1 "$count"); do
      printf 'SWARM_NODE%s_HOST=unix://%s/%s-n%s.sock\n' "$i" "$run_dir" "$name" "$i"
      printf 'SWARM_NODE%s_ADDR=%s.%s\nSWARM_NODE%s_HOSTNAME=%s-n%s\n' "$i" "$net" "$i" "$i" "$name" "$i"
      printf 'SWARM_NODE%s_NETNS=/run/netns/%s-n%s\n' "$i" "$name" "$i"
    done
    printf 'SWARM_REGISTRY=%s\nSWARM_PRIVATE_REGISTRY=%s\n' "$registry" "$private_registry"
    printf 'SWARM_HOST_ADDR=%s.253\nSWARM_NETWORK=workflow-overlay\n' "$net"
  } > "$run_dir/$name/cluster.env"
  cat "$run_dir/$name/cluster.env"
  log "$name is up: $count nodes on $net.0/24"
}

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
mkdir -p "$run_dir" "$lib_dir"
case "${1:-}" in
  up)
    [ $# -ge 2 ] || usage
    name="${3:-wfs$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-5)}"
    valid_name "$name"
    [[ "$2" =~ ^[1-9]$ ]] || { log "N must be 1..9"; exit 2; }
    [ ! -e "$run_dir/$name" ] || { log "$name exists already"; exit 1; }
    [ -d "$registry_data" ] || { log "no registry storage at $registry_data (scripts/start-services.sh --test)"; exit 1; }
    for cmd in dockerd containerd docker-registry nsenter unshare ip curl; do
      command -v "$cmd" >/dev/null || { log "missing $cmd"; exit 1; }
    done
    # from here on, any failure (set -e) or signal tears down whatever was made
    trap 'log "failed: tearing $name down"; down "$name"' EXIT
    trap 'exit 1' INT TERM
    up "$2"
    trap - EXIT
    ;;
  down) [ $# -eq 2 ] || usage; down "$2" ;;
  kill-node|start-node)
    [ $# -eq 3 ] || usage
    name="$2"
    valid_name "$name"
    [[ "$3" =~ ^[1-9]$ ]] && [ -d "$run_dir/$name/n$3" ] || { log "$name has no node $3"; exit 1; }
    if [ "$1" = kill-node ]; then
      kill_node "$3"
    else
      registry="$(sed -n 's/^SWARM_REGISTRY=//p' "$run_dir/$name/cluster.env")"
      start_node "$3"
      log "node $name-n$3 started"
    fi
    ;;
  gc) gc ;;
  *) usage ;;
esac
