# syntax=docker/dockerfile:1
# midnight-native-prover `serve`: the official proof server's HTTP protocol on port 6300.
#
#   npm ci && npm run build:platforms && npm run pack:platforms     # dist/*.tgz (see docs/deploy.md)
#   docker buildx build --platform linux/amd64,linux/arm64 -t midnight-native-prover:0.1.0 .
#   docker run --init --rm -p 6300:6300 --cpus 4 --memory 8g midnight-native-prover:0.1.0
#
# Nothing is compiled in the image: stage 1 installs the packed main package and the prebuilt
# platform package of the image's architecture (linux-x64-gnu for amd64, linux-arm64-gnu for
# arm64) with npm; stage 2 is a slim Node image with that node_modules alone, running as the
# unprivileged `node` user (uid 1000). Base tags are pinned to a minor version; pin a digest
# (@sha256:...) too for reproducible builds.
ARG NODE_VERSION=20.20

FROM node:${NODE_VERSION}-bookworm-slim AS install
# Set by BuildKit/buildx from --platform.
ARG TARGETARCH
WORKDIR /opt/midnight-native-prover
COPY dist/ /tmp/dist/
# The package's install hook only checks that the prebuilt binary loads. --offline: both packages
# are the tarballs in dist/ and they need nothing else, so the build never waits on a registry (the
# other platforms' optional packages are skipped).
RUN case "${TARGETARCH:-amd64}" in \
      amd64) platform=linux-x64-gnu ;; \
      arm64) platform=linux-arm64-gnu ;; \
      *) echo "no prebuilt package for linux/${TARGETARCH}" >&2; exit 1 ;; \
    esac \
    && echo '{ "name": "midnight-native-prover-image", "private": true }' > package.json \
    && npm install --offline --omit=dev --no-audit --no-fund \
      /tmp/dist/midnight-native-prover-[0-9]*.tgz "/tmp/dist/midnight-native-prover-${platform}-"[0-9]*.tgz \
    && node -e "require('midnight-native-prover')"

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    PROVER_HOST=0.0.0.0 \
    MIDNIGHT_PROOF_SERVER_PORT=6300 \
    PROVER_KEY_CACHE=/var/cache/midnight-native-prover \
    MIDNIGHT_PP=/var/lib/midnight/zk-params
# PROVER_MEMORY_LIMIT is deliberately unset: the service derives its memory budget from the
# container's cgroup memory limit (`--memory`, compose `deploy.resources.limits.memory`, or the
# Kubernetes `resources.limits.memory`), so the container limit alone sizes it.
WORKDIR /opt/midnight-native-prover
# The packages are owned by root and read-only for the service; only the key cache is writable
# (mount a volume there to keep derived keys across restarts). MIDNIGHT_PP is where the
# bls_midnight_2p{k} files for k > 14 are mounted; k <= 14 needs no files.
COPY --from=install /opt/midnight-native-prover/node_modules ./node_modules
RUN mkdir -p /var/cache/midnight-native-prover /var/lib/midnight/zk-params \
    && chown node:node /var/cache/midnight-native-prover \
    && node -e "require('midnight-native-prover')"
USER 1000:1000
EXPOSE 6300
# No curl in the slim image: Node's fetch probes the port the service listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MIDNIGHT_PROOF_SERVER_PORT || 6300) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the service stops accepting, finishes the proofs in flight and exits 0. Give it the
# time (docker stop -t 120, compose stop_grace_period, k8s terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "node_modules/midnight-native-prover/bin/cli.js", "serve"]
