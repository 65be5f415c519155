# syntax=docker/dockerfile:1
# SPDX-License-Identifier: MIT
# ssecast container image (docs/deploy.md §Container image): built on debian:12-slim, runs
# as an unprivileged user, listens on 8080, configured by /etc/ssecast/ssecast.toml
# (SSECAST_CONFIG) and SSECAST_* variables, which override the file.
#
#   docker build --build-arg SSECAST_COMMIT=$(git rev-parse --short=12 HEAD) -t ssecast .
#   docker run -p 8080:8080 -e SSECAST_AUTH_PUBLISH_KEYS=... ssecast

# --- the server, built with Debian 12's toolchain and libraries -------------------------
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ccache pkg-config \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libhiredis-dev libssl-dev libjwt-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev \
      libgtest-dev libsystemd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY src src
COPY bench bench
COPY config config
# No .git in the build context: the commit comes in as a build argument.
ARG SSECAST_COMMIT=unknown
RUN --mount=type=cache,target=/root/.cache/ccache \
    SSECAST_COMMIT=${SSECAST_COMMIT} CCACHE_DIR=/root/.cache/ccache \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
 && cmake --build build --target ssecast -j"$(nproc)" \
 && strip build/ssecast \
 && sed -e 's/^listen = "127.0.0.1:8080"/listen = "0.0.0.0:8080"/' \
        config/ssecast.example.toml > build/ssecast.toml \
 && grep -q '^listen = "0.0.0.0:8080"' build/ssecast.toml

# --- the /admin UI (Vite 7 needs Node.js 20; Debian 12 ships 18) -------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY clients/js clients/js
COPY web/admin web/admin
RUN cd clients/js && npm ci --no-audit --no-fund && npm run build \
 && cd ../../web/admin && npm ci --no-audit --no-fund && npm run build

# --- the runtime: shared libraries only, no compiler, no Node.js ------------------------
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libhiredis0.14 libssl3 libjwt0 \
      libspdlog1.10 libfmt9 libtomlplusplus3 libsystemd0 \
      curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ssecast \
 && useradd --system --uid 10001 --gid ssecast --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin ssecast
COPY --from=build /src/build/ssecast /usr/bin/ssecast
COPY --from=build /src/build/ssecast.toml /etc/ssecast/ssecast.toml
COPY --from=web /web/web/admin/dist /usr/share/ssecast/admin
ENV SSECAST_CONFIG=/etc/ssecast/ssecast.toml
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8080
# Liveness only (/readyz is for the load balancer: 503 while Redis is away or draining).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/ssecast"]
CMD ["serve"]
