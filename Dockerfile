# syntax=docker/dockerfile:1
# One image for every edgesplit role: `edgesplit serve partition|router|planner`.
#
#   docker build -t ghcr.io/edgesplit/edgesplit:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/edgesplit:0.1.0 --push .
#
# Without a Docker engine, scripts/build-image.sh builds the same layout (Debian
# bookworm + node 24 + production node_modules + models) as an OCI archive.
# Node 24 LTS: the same major as scripts/build-image.sh ships (its pinned
# binary: scripts/node-runtime.sh) and CI tests on (package.json engines).
# See docs/deploy.md.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- stage 1: production dependencies only -------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# .npmrc sets onnxruntime-node-install=skip: the CPU binaries ship inside the npm
# package, nothing is downloaded at install time.
COPY package.json package-lock.json .npmrc ./
# onnxruntime-node carries binaries for every OS and CPU; keep only this one's.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && arch="$(node -p process.arch)" \
 && ort=node_modules/onnxruntime-node/bin/napi-v6 \
 && rm -rf "$ort/darwin" "$ort/win32" \
 && find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + \
 && test -f "$ort/linux/$arch/onnxruntime_binding.node"

# ---- stage 2: compile the TypeScript to dist/ (tsc; dev dependencies live only here) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY scripts ./scripts
COPY src ./src
COPY protos ./protos
RUN node scripts/build.mjs && find dist -name '*.map' -delete

# ---- stage 3: runtime --------------------------------------------------------------
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="edgesplit" \
      org.opencontainers.image.description="Separable neural network across edge devices: partition, router and planner roles" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/edgesplit/edgesplit"
# A 1 MB young generation and (in the entrypoint: NODE_OPTIONS does not take it) no concurrent recompilation:
# less memory and less CPU per request for the serving roles (SERVE_NODE_FLAGS in src/tools/cli/stack.ts).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=1 \
    EDGESPLIT_HOME=/app \
    TMPDIR=/tmp
WORKDIR /app
# A fixed numeric non-root user so that Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 edgesplit \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin edgesplit
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY protos ./protos
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/.build-stamp ./dist/.build-stamp
# Model packages are baked in: edge clusters are often air-gapped.
COPY models ./models
USER 10001:10001
EXPOSE 50051 8001 50052
ENTRYPOINT ["node", "--no-concurrent-recompilation", "/app/bin/edgesplit.mjs"]
CMD ["--help"]
