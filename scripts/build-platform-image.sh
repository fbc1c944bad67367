#!/usr/bin/env bash
# Build the platform's images from this checkout, without Docker Hub or PyPI in the build: the Debian base
# comes from scripts/debian-base.sh, the Python dependencies from wheels the host's pip builds into
# deploy/wheels/ (the Dockerfile installs only from there when it holds any). Prints, as shell assignments,
# the names docker-compose.yml takes:
#   WORKFLOW_IMAGE=workflow-test/platform:src-<hash of the build inputs>
#   WORKFLOW_POSTGRES_IMAGE=workflow-test/postgres:15   (deploy/postgres: Debian's PostgreSQL 15)
# Repeat runs reuse the engine's layer cache; platform tags of builds over an hour old are removed.
# Environment: PIP (default .venv/bin/pip of this checkout).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
pip="${PIP:-$root/.venv/bin/pip}"
wheels="$root/deploy/wheels"
platform_repo=workflow-test/platform
postgres_image=workflow-test/postgres:15

log() { printf '[platform-image] %s\n' "$*" >&2; }
build() {  # docker build's output only when it fails
  local out
  out="$(DOCKER_BUILDKIT=0 docker build "$@" 2>&1)" || { printf '%s\n' "$out" >&2; return 1; }
}

bash "$root/scripts/debian-base.sh"
# PostgreSQL's image meanwhile (it needs only the base)
build -t "$postgres_image" "$root/deploy/postgres" &
postgres_build=$!

# One build per checkout at a time (the wheels folder is shared by the builds of a checkout).
exec 9>"$wheels/.lock"
flock 9

# --- wheels of the runtime dependencies (pyproject.toml's, plus the build backend) -----------------------
requirements="$(python3 -c 'import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
print("\n".join(deps + ["setuptools>=68", "wheel"]))' "$root/pyproject.toml")"
req_hash="$(printf '%s\n' "$requirements" | sha256sum | cut -c1-16)"
if [ "$(cat "$wheels/.requirements" 2>/dev/null)" != "$req_hash" ] || ! ls "$wheels"/*.whl >/dev/null 2>&1; then
  log "building the dependencies' wheels into deploy/wheels"
  rm -f "$wheels"/*.whl "$wheels/.requirements"
  # (the requirements file outside the checkout: nothing for a `git add -A` to pick up meanwhile)
  req_file="$(mktemp)"
  printf '%s\n' "$requirements" > "$req_file"
  "$pip" wheel -q --disable-pip-version-check --wheel-dir "$wheels" -r "$req_file" \
    >"$wheels/.pip.log" 2>&1 || { cat "$wheels/.pip.log" >&2; rm -f "$req_file"; exit 1; }
  rm -f "$req_file"
  printf '%s\n' "$req_hash" > "$wheels/.requirements"
fi

# --- images ---------------------------------------------------------------------------------------------
src_hash="$(cd "$root" && {
  find Dockerfile .dockerignore pyproject.toml README.md alembic.ini migrations src deploy/wheels -type f \
    ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name ".lock" ! -name ".pip.log" | LC_ALL=C sort | xargs sha256sum
} | sha256sum | cut -c1-16)"
platform_image="$platform_repo:src-$src_hash"

if ! docker image inspect "$platform_image" >/dev/null 2>&1; then
  log "building $platform_image"
  build -t "$platform_image" "$root"
fi
wait "$postgres_build" || { log "building $postgres_image failed"; exit 1; }

# Old builds of this repository name (an hour old: not one a concurrent run is about to start); an image a
# container still uses stays (rmi refuses).
cutoff=$(( $(date +%s) - 3600 ))
docker images --format '{{.Repository}}:{{.Tag}} {{.CreatedAt}}' "$platform_repo" | while read -r ref created _; do
  [ "$ref" = "$platform_image" ] && continue
  [ "$(date -d "$created" +%s 2>/dev/null || echo "$cutoff")" -lt "$cutoff" ] && docker rmi "$ref" >/dev/null 2>&1 || true
done

printf 'WORKFLOW_IMAGE=%s\nWORKFLOW_POSTGRES_IMAGE=%s\n' "$platform_image" "$postgres_image"
