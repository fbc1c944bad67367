#!/usr/bin/env bash
# Make sure the engine has `debian:bookworm-slim`, the base of the platform's images (Dockerfile,
# deploy/postgres/Dockerfile). Where Docker Hub answers it is pulled, as any build would. Where it does not
# (no Hub, as on the test machines), the same name is made from Debian's own packages: a `debootstrap
# --variant=minbase` root, slimmed as Debian's images are (no docs or man pages, apt caches cleaned), imported
# with `docker import`. So the Dockerfiles build unchanged in both places.
#
# The root is cached as a tarball (WORKFLOW_BASE_CACHE, default /var/lib/workflow-test/base): a repeat run on
# an engine that lost the image imports it in seconds; the first run takes about two minutes.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), the mirror debootstrap downloads from.
set -euo pipefail

image=debian:bookworm-slim
cache="${WORKFLOW_BASE_CACHE:-/var/lib/workflow-test/base}"
tarball="$cache/debian-bookworm-minbase.tar"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[debian-base] %s\n' "$*" >&2; }

mkdir -p "$cache"
# Concurrent test runs: one maker at a time, the others find the image made.
exec 9>"$cache/.lock"
flock 9

docker image inspect "$image" >/dev/null 2>&1 && exit 0
if timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
  log "pulled $image"
  exit 0
fi

if [ ! -s "$tarball" ]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  fi
  root="$(mktemp -d "$cache/root.XXXXXX")"
  trap 'rm -rf "$root" "$tarball.tmp"' EXIT
  log "no $image from a registry: making it with debootstrap from $mirror (about two minutes, once)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }

  # What Debian's bookworm-slim image has: the three suites, and dpkg/apt set up for containers.
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  printf 'Acquire::Languages "none";\n' > "$root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::Install-Recommends "false";\n' > "$root/etc/apt/apt.conf.d/docker-no-recommends"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/var/log/* "$root"/tmp/*
  : > "$root/etc/resolv.conf"  # the engine mounts its own
  : > "$root/etc/hostname"
  tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$root"
  trap - EXIT
fi

docker import --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL org.opencontainers.image.description="Debian 12 minbase made by scripts/debian-base.sh"' \
  "$tarball" "$image" >/dev/null
log "imported $image from $tarball"
