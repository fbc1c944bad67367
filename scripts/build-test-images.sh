#!/usr/bin/env bash
# Build the test images (tests/images/<variant>/Dockerfile, FROM scratch around Debian's static busybox and
# bash) and push them to the local registry, so that `docker pull test/<variant>` resolves through the
# engine's registry mirror. Also pushes test/web as gabrtv/example-go (the seed walk-through's image), and
# into the private registry with htpasswd auth (127.0.0.1:5001, see start-services.sh --test) as
# test/private-web, with `docker login`; the local copy of that one is removed, so pulls go to the registry.
#
# Idempotent and fast: each image is also pushed under a tag derived from the hash of its inputs; when the
# registry already holds that tag nothing is built. `--force` rebuilds and pushes everything.
#
# Environment: REGISTRY (default 127.0.0.1:5000), BUSYBOX (/bin/busybox), BASH_STATIC (/bin/bash-static),
# PRIVATE_REGISTRY_ENV (default /var/lib/workflow-test/private-registry/credentials.env).
set -euo pipefail

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
images_dir="$root/tests/images"
registry="${REGISTRY:-127.0.0.1:5000}"
busybox="${BUSYBOX:-/bin/busybox}"
bash_static="${BASH_STATIC:-/bin/bash-static}"
variants=(web noexpose twoexpose nocmd crash nolisten slow tcp wrongport volume burn)
# alias name -> variant it is a copy of
declare -A aliases=([gabrtv/example-go]=web)

log() { printf '[test-images] %s\n' "$*" >&2; }

for bin in "$busybox" "$bash_static"; do
  [ -x "$bin" ] || { log "missing $bin (apt-get install busybox-static bash-static)"; exit 1; }
done
curl -fsS -m 5 "http://$registry/v2/" >/dev/null || { log "registry http://$registry is not answering"; exit 1; }

# Several test sessions may start at once: one builder at a time.
exec 9>"${TMPDIR:-/tmp}/workflow-test-images.lock"
flock 9

# Hash of everything that goes into a variant's image.
input_hash() {
  local variant="$1"
  (
    cd "$images_dir"
    { sha256sum "$busybox" "$bash_static" | cut -d' ' -f1
      find www "$variant" -type f | LC_ALL=C sort | xargs sha256sum
      find www "$variant" -type f -perm -u+x | LC_ALL=C sort
    } | sha256sum | cut -c1-16
  )
}

in_registry() {  # name tag
  curl -fsS -o /dev/null -m 5 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$registry/v2/$1/manifests/$2" 2>/dev/null
}

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

built=0
for variant in "${variants[@]}"; do
  name="test/$variant"
  hash="src-$(input_hash "$variant")"
  names=("$name")
  for alias in "${!aliases[@]}"; do
    [ "${aliases[$alias]}" = "$variant" ] && names+=("$alias")
  done

  if [ "$force" = 0 ]; then
    fresh=1
    in_registry "$name" "$hash" || fresh=0
    for n in "${names[@]}"; do in_registry "$n" latest || fresh=0; done
    [ "$fresh" = 1 ] && continue
  fi

  log "building $name ($hash)"
  rm -rf "${ctx:?}"/*
  cp "$busybox" "$ctx/busybox"
  cp "$bash_static" "$ctx/bash"
  cp -a "$images_dir/www" "$ctx/www"
  cp -a "$images_dir/$variant"/. "$ctx/"
  tags=(-t "$registry/$name:$hash")
  for n in "${names[@]}"; do tags+=(-t "$registry/$n:latest" -t "$n:latest"); done
  out="$(DOCKER_BUILDKIT=0 docker build -q "${tags[@]}" "$ctx" 2>&1)" || { printf "%s\n" "$out" >&2; exit 1; }
  docker push -q "$registry/$name:$hash" >/dev/null
  for n in "${names[@]}"; do docker push -q "$registry/$n:latest" >/dev/null; done
  built=$((built + 1))
done

log "images ready in $registry ($built built, $(( ${#variants[@]} - built )) already there)"

# --- test/private-web in the private registry -------------------------------------------------------------
private_env="${PRIVATE_REGISTRY_ENV:-/var/lib/workflow-test/private-registry/credentials.env}"
if [ ! -r "$private_env" ]; then
  log "no private registry ($private_env is missing): run scripts/start-services.sh --test"
  exit 0
fi
# shellcheck disable=SC1090
. "$private_env"
preg="$PRIVATE_REGISTRY"
private_has() {  # tag; the password goes through curl's stdin config, never argv
  printf 'user = "%s:%s"\n' "$PRIVATE_REGISTRY_USER" "$PRIVATE_REGISTRY_PASSWORD" | curl -fsS -o /dev/null -m 5 -K - \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$preg/v2/test/private-web/manifests/$1" 2>/dev/null
}
web_hash="src-$(input_hash web)"
if [ "$force" = 1 ] || ! private_has "$web_hash" || ! private_has latest; then
  log "pushing test/private-web to $preg"
  source_ref="$registry/test/web:$web_hash"
  docker image inspect "$source_ref" >/dev/null 2>&1 || docker pull -q "$source_ref" >/dev/null
  export DOCKER_CONFIG="$ctx/docker-config"
  printf '%s' "$PRIVATE_REGISTRY_PASSWORD" \
    | docker login -u "$PRIVATE_REGISTRY_USER" --password-stdin "$preg" >/dev/null 2>&1 \
    || { log "docker login $preg failed"; exit 1; }
  for tag in "$web_hash" latest; do
    docker tag "$source_ref" "$preg/test/private-web:$tag"
    docker push -q "$preg/test/private-web:$tag" >/dev/null
  done
  docker logout "$preg" >/dev/null 2>&1 || true
  unset DOCKER_CONFIG
fi
# Pulls of this image must go to the registry: never keep a local copy.
docker rmi "$preg/test/private-web:$web_hash" "$preg/test/private-web:latest" >/dev/null 2>&1 || true
