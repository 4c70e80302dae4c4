# syntax=docker/dockerfile:1
# image-resolver: gRPC service that turns wishlist image keys into CloudFront or S3 URLs.
#   docker build -t wishlist-image-cdn:0.1.0 .
#   docker run -p 50051:50051 -e CLOUDFRONT_DISTRIBUTION_DOMAIN=d111111abcdef8.cloudfront.net wishlist-image-cdn:0.1.0

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY server ./server
COPY client ./client
# A plain, non-editable install of the project and its runtime dependencies (no extras).
RUN /opt/venv/bin/pip install --no-compile . \
    && /opt/venv/bin/image-resolver --help > /dev/null

FROM python:3.11.13-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="wishlist-image-cdn" \
      org.opencontainers.image.description="Resolves wishlist image keys to CloudFront or S3 URLs over gRPC" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GRPC_PORT=50051 \
    METRICS_PORT=9464
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
EXPOSE 50051 9464
# gRPC health check (grpc.health.v1) against localhost:$GRPC_PORT; exits non-zero unless SERVING.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["image-resolver", "health"]
# SIGTERM flips health to NOT_SERVING and drains for SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
ENTRYPOINT ["image-resolver"]
CMD ["serve"]
