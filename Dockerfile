# syntax=docker/dockerfile:1
# votewire node image, test-gated: a failing test (Rust or web) fails the build, so no image
# exists for code that does not pass. Needs BuildKit (the default of Docker 23+ and of
# `docker compose`) for the cache mounts.
#
#   docker build -t votewire .
#   docker run --rm -p 8080:8080 votewire            # one node, SQLite in /var/lib/votewire
#
# Stages: web (npm test + vite build, when web/package.json exists) -> build (cargo test,
# then the release binary) -> runtime (debian:bookworm-slim, non-root, HEALTHCHECK /readyz).

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22

# --- web client ------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/ ./
# A repository without a web client yet still gets an (empty) dist to copy.
RUN --mount=type=cache,target=/root/.npm \
    if [ -f package.json ]; then \
        npm ci --no-audit --no-fund \
        && npm test --if-present \
        && npm run build; \
    else \
        mkdir -p dist; \
    fi

# --- Rust: tests, then the release binary ----------------------------------------------
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Tests that need PostgreSQL, MariaDB/MySQL or Redis are skipped here: a build container
# has none of them. They run where those services exist (./build.sh test, CI).
ENV VOTEWIRE_TEST_EXTERNAL=0 \
    CARGO_TERM_COLOR=never
# The target folder lives in a cache mount (fast rebuilds), so the binary is copied out of
# it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo test --workspace --locked \
    && cargo build --release --locked -p votewire-server \
    && install -D -m 0755 target/release/votewire /out/votewire

# --- runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# curl: for the HEALTHCHECK; ca-certificates: TLS to managed databases and Redis.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/votewire --create-home \
        --shell /usr/sbin/nologin votewire
COPY --from=build /out/votewire /usr/local/bin/votewire
COPY --from=web /src/web/dist /usr/share/votewire/web
# Listen on every interface of the container; the data folder holds SQLite (single node)
# and a generated key when no --key-file is given. A cluster passes its database, Redis and
# shared key through VOTEWIRE_* variables (see compose.yaml, k8s/).
ENV VOTEWIRE_LISTEN=0.0.0.0:8080 \
    VOTEWIRE_DATA_DIR=/var/lib/votewire \
    VOTEWIRE_WEB_DIR=/usr/share/votewire/web \
    RUST_LOG=info
USER votewire
WORKDIR /var/lib/votewire
EXPOSE 8080
# SIGTERM starts the drain (sockets closed with 1001, in-flight votes finished).
STOPSIGNAL SIGTERM
# Ready = database (and Redis when configured) reachable and not draining. The port is the
# one of VOTEWIRE_LISTEN.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${VOTEWIRE_LISTEN##*:}/readyz" || exit 1
ENTRYPOINT ["/usr/local/bin/votewire"]
CMD ["serve"]
