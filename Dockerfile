# The platform in a container: API + its own nginx (the router) + reconciler, one process tree.
# It drives the host's Docker engine through the mounted socket (see docker-compose.yml).
# The base is Debian 12 as published on Docker Hub; where Hub is unreachable, scripts/debian-base.sh makes the
# same name from Debian's packages (debootstrap), so this file builds unchanged in both places.
FROM debian:bookworm-slim AS base

# Debian's Python 3.11, and the nginx the platform supervises with the Lua module its live routes use
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv nginx libnginx-mod-http-lua \
      lua-resty-core lua-resty-lrucache lua-cjson curl ca-certificates publicsuffix \
 && rm -rf /var/lib/apt/lists/*

# pyproject.toml's dependencies alone: the layer that installs them is rebuilt only when they change
FROM base AS requirements
COPY pyproject.toml /tmp/
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("/tmp/pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > /requirements.txt

FROM base
ENV VIRTUAL_ENV=/opt/workflow \
    PATH=/opt/workflow/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app

# From PyPI, or, for a build without PyPI access, only from the wheels scripts/build-platform-image.sh puts
# into deploy/wheels/.
COPY --from=requirements /requirements.txt /tmp/
COPY deploy/wheels/ /tmp/wheels/
RUN python3 -m venv "$VIRTUAL_ENV" \
 && if ls /tmp/wheels/*.whl >/dev/null 2>&1; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/tmp/wheels; fi \
 && pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt "setuptools>=68" wheel \
 && rm -rf /tmp/wheels /tmp/requirements.txt

COPY pyproject.toml README.md alembic.ini ./
COPY migrations ./migrations
COPY src ./src
# editable: `workflow db upgrade` finds alembic.ini and migrations/ next to src/
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation -e .

ENV WORKFLOW_DATA_DIR=/data \
    WORKFLOW_PORT=8000 \
    WORKFLOW_TLS_PORT=8443 \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8000 8443

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1

CMD ["sh", "-c", "workflow db upgrade && exec workflow serve"]
