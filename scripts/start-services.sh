#!/usr/bin/env bash
# Install (when missing) and start the real services the platform and its tests need:
# the Docker engine (with the local registry as a mirror), the local registry on 127.0.0.1:5000,
# and — with --test — a second registry with htpasswd auth on 127.0.0.1:5001 (private-registry tests; its
# credentials are generated once into /var/lib/workflow-test/private-registry/credentials.env) and
# PostgreSQL. Idempotent: what already runs is left alone.
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

log() { printf '[setup] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v nginx >/dev/null || need_pkgs+=(nginx)
# the router's live routes: nginx's Lua module and the resty libraries its balancer uses
for pkg in libnginx-mod-http-lua lua-resty-core lua-resty-lrucache lua-cjson; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
command -v curl >/dev/null || need_pkgs+=(curl)
# the Public Suffix List (custom wildcard domains are checked against it)
[ -f /usr/share/publicsuffix/public_suffix_list.dat ] || need_pkgs+=(publicsuffix)
if [ "$want_test" = 1 ]; then
  command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
  dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
  dpkg -s bash-static >/dev/null 2>&1 || need_pkgs+=(bash-static)
  command -v htpasswd >/dev/null || need_pkgs+=(apache2-utils)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_pkgs+=(postgresql)
  command -v chromium >/dev/null || need_pkgs+=(chromium)
  command -v docker-compose >/dev/null || need_pkgs+=(docker-compose)
  # the platform's images without Docker Hub (debian-base.sh) and the swarm test nodes (swarm-nodes.sh)
  command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
  command -v ip >/dev/null || need_pkgs+=(iproute2)
  # the router benchmark's load generator (`make bench` starts the services with --test)
  command -v wrk >/dev/null || need_pkgs+=(wrk)
  # the router cost benchmark counts nginx's instructions a request (bench/routercost.py)
  command -v valgrind >/dev/null || need_pkgs+=(valgrind)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

registry_up() { curl -fsS -m 2 http://127.0.0.1:5000/v2/ >/dev/null 2>&1; }

# --- local registry (before dockerd, so the mirror answers from the first pull) -------------
if [ "$want_test" = 1 ] && ! registry_up; then
  log "starting docker-registry on 127.0.0.1:5000"
  mkdir -p /var/lib/workflow-test/registry
  cat > /var/lib/workflow-test/registry/config.yml <<'YML'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/workflow-test/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YML
  nohup docker-registry serve /var/lib/workflow-test/registry/config.yml \
    >/var/lib/workflow-test/registry/log 2>&1 &
  for _ in $(seq 1 50); do registry_up && break; sleep 0.2; done
  registry_up || { log "registry did not start"; cat /var/lib/workflow-test/registry/log >&2; exit 1; }
fi

# --- private registry (htpasswd auth) on 127.0.0.1:5001, for the private-registry tests --------
private_dir=/var/lib/workflow-test/private-registry
private_up() {  # answers, and asks for credentials
  [ "$(curl -sS -o /dev/null -w '%{http_code}' -m 2 http://127.0.0.1:5001/v2/ 2>/dev/null)" = 401 ]
}
if [ "$want_test" = 1 ] && { ! private_up || [ ! -s "$private_dir/credentials.env" ]; }; then
  log "starting docker-registry with htpasswd auth on 127.0.0.1:5001"
  mkdir -p "$private_dir"
  chmod 700 "$private_dir"
  if [ ! -s "$private_dir/credentials.env" ] || [ ! -s "$private_dir/htpasswd" ]; then
    user=workflow
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    htpasswd -Bbn "$user" "$password" > "$private_dir/htpasswd"
    printf 'PRIVATE_REGISTRY=127.0.0.1:5001\nPRIVATE_REGISTRY_USER=%s\nPRIVATE_REGISTRY_PASSWORD=%s\n' \
      "$user" "$password" > "$private_dir/credentials.env"
    chmod 600 "$private_dir/htpasswd" "$private_dir/credentials.env"
  fi
  cat > "$private_dir/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $private_dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5001
auth:
  htpasswd:
    realm: workflow-private
    path: $private_dir/htpasswd
YML
  # A registry already on the port (with other credentials) is replaced.
  if private_up && pid="$(pgrep -f "docker-registry serve $private_dir/config.yml")"; then kill $pid; sleep 0.5; fi
  nohup docker-registry serve "$private_dir/config.yml" >"$private_dir/log" 2>&1 &
  for _ in $(seq 1 50); do private_up && break; sleep 0.2; done
  private_up || { log "private registry did not start"; cat "$private_dir/log" >&2; exit 1; }
fi

# --- Docker engine -------------------------------------------------------------------------
# The tests pull `user/image` names through the local registry: an engine started without it as a mirror
# (e.g. by the docker.io package itself) is restarted with it.
if [ "$want_test" = 1 ] && docker info >/dev/null 2>&1 \
    && ! docker info 2>/dev/null | grep -q 'http://127.0.0.1:5000'; then
  log "restarting dockerd with the local registry as a mirror"
  rm -f /etc/docker/daemon.json
  pkill -x dockerd || true
  for _ in $(seq 1 60); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done
fi
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /etc/docker
  if [ ! -s /etc/docker/daemon.json ] || ! grep -q '127.0.0.1:5000' /etc/docker/daemon.json; then
    cat > /etc/docker/daemon.json <<'JSON'
{
  "registry-mirrors": ["http://127.0.0.1:5000"],
  "insecure-registries": ["127.0.0.1:5000", "127.0.0.1:5001"]
}
JSON
  fi
  bash "$(dirname "$0")/dockerd.sh" start || { log "dockerd did not start"; exit 1; }
fi

# --- PostgreSQL ------------------------------------------------------------------------------
if [ "$want_test" = 1 ]; then
  pgver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
    log "starting PostgreSQL $pgver"
    pg_lsclusters -h | grep -q . || pg_createcluster "$pgver" main >/dev/null
    pg_ctlcluster "$pgver" main start
  fi
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='workflow'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE ROLE workflow LOGIN SUPERUSER PASSWORD 'workflow'\""
fi
log "services ready"
