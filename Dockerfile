# syntax=docker/dockerfile:1
# One build, a target per deployable; each final stage installs only its own member from uv.lock.
#   docker build --target image-resolver -t image-resolver:0.1.0 .
#   docker build --target wishlist-api   -t wishlist-api:0.1.0 .
#   docker build --target image-ops      -t image-ops:0.1.0 .
#   docker run -p 50051:50051 -e CLOUDFRONT_DISTRIBUTION_DOMAIN=d111111abcdef8.cloudfront.net image-resolver:0.1.0
# Base pinned by digest: python:3.11.13-slim-bookworm as published in public Dockerfiles; not
# pulled here (no registry reachable), so re-check it with `docker pull` before the first build.

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS base
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app

# The workspace's manifests, the lock, the contract and every member's sources; each build-*
# stage below installs one member (and what the lock pins for it) into /opt/venv.
FROM base AS source
# UV_COMPILE_BYTECODE: the venv ships .pyc files. The runtime user cannot write them (and
# PYTHONDONTWRITEBYTECODE says not to), so without them every start recompiles every module.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
WORKDIR /src
RUN pip install --no-compile uv==0.13.9
COPY pyproject.toml uv.lock ./
COPY dev/pyproject.toml ./dev/pyproject.toml
COPY client ./client
COPY server ./server
COPY api ./api
COPY ops ./ops

FROM source AS build-image-resolver
# No FastAPI, no database driver, no DuckDB.
RUN uv sync --frozen --no-dev --no-editable --package image-resolver \
    && /opt/venv/bin/image-resolver --help > /dev/null

FROM source AS build-wishlist-api
# No boto3, no DuckDB.
RUN uv sync --frozen --no-dev --no-editable --package wishlist-api \
    && /opt/venv/bin/wishlist-api --help > /dev/null

FROM source AS build-image-ops
# No resolver internals, no web stack.
RUN uv sync --frozen --no-dev --no-editable --package image-ops \
    && /opt/venv/bin/image-ops --help > /dev/null

FROM base AS image-resolver
LABEL org.opencontainers.image.title="image-resolver" \
      org.opencontainers.image.description="Resolves wishlist image keys to CloudFront or S3 URLs over gRPC" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    GRPC_PORT=50051 \
    METRICS_PORT=9464
COPY --from=build-image-resolver /opt/venv /opt/venv
USER 10001:10001
EXPOSE 50051 9464
# gRPC health check (grpc.health.v1) against localhost:$GRPC_PORT; exits non-zero unless SERVING.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["image-resolver", "health"]
# SIGTERM flips health to NOT_SERVING and drains for SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
ENTRYPOINT ["image-resolver"]
CMD ["serve"]

FROM base AS image-ops
LABEL org.opencontainers.image.title="image-ops" \
      org.opencontainers.image.description="Operator toolkit for image-resolver: rollout gates, probe, access-log report" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH
COPY --from=build-image-ops /opt/venv /opt/venv
USER 10001:10001
# A batch tool (CronJob, Fargate task): nothing to health-check between runs.
HEALTHCHECK NONE
ENTRYPOINT ["image-ops"]
CMD ["--help"]

# Last, so that a plain `docker build .` builds the API.
FROM base AS wishlist-api
LABEL org.opencontainers.image.title="wishlist-api" \
      org.opencontainers.image.description="Wishlist HTTP API; image URLs from image-resolver over gRPC" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8080
COPY --from=build-wishlist-api /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8080
# Liveness without the database: /healthz. The python -c keeps curl out of the image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8080')}/healthz\", timeout=3)"]
# uvicorn drains in-flight requests on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["wishlist-api"]
CMD ["serve"]
