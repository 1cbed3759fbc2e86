# syntax=docker/dockerfile:1
# midnight-native-prover `serve`: the official proof server's HTTP protocol on port 6300.
#
#   docker build -t midnight-native-prover:0.1.0 .
#   docker run --init --rm -p 6300:6300 --cpus 4 --memory 8g midnight-native-prover:0.1.0
#
# Stage 1 compiles the native addon from source (Rust >= 1.88 and Node 20; the release build of
# the Midnight crates takes minutes). Stage 2 is a slim Node image with the package, the built
# .node file and the production node_modules, running as the unprivileged `node` user (uid 1000).
# Base tags are pinned to a minor version; pin a digest (@sha256:...) too for reproducible builds.
ARG RUST_VERSION=1.95
ARG NODE_VERSION=20.20

FROM rust:${RUST_VERSION}-bookworm AS rust

# node:*-bookworm (not -slim) carries gcc, make and the libc headers the Rust build links with.
FROM node:${NODE_VERSION}-bookworm AS build
COPY --from=rust /usr/local/cargo /usr/local/cargo
COPY --from=rust /usr/local/rustup /usr/local/rustup
ENV CARGO_HOME=/usr/local/cargo \
    RUSTUP_HOME=/usr/local/rustup \
    PATH=/usr/local/cargo/bin:$PATH
WORKDIR /src
# Dependencies first so that source edits don't refetch them. --ignore-scripts: the package's own
# install hook (scripts/install.js) runs explicitly below, once the Rust sources are in place.
# (`npm ci` rejects this lock: npm leaves other platforms' optional packages out of it.)
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY index.js index.d.ts binding.js binding.d.ts ./
COPY lib ./lib
COPY bin ./bin
COPY scripts ./scripts
# The cache mounts keep crates and compiled dependencies between builds (BuildKit). build.rs reads
# Midnight's SRS out of the unpacked registry, which is inside the mounted CARGO_HOME/registry.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    MIDNIGHT_NATIVE_PROVER_FORCE_BUILD=1 node scripts/install.js \
    && test -f midnight-native-prover.linux-x64-gnu.node

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
# The package is owned by root and read-only for the service; only the key cache is writable
# (mount a volume there to keep derived keys across restarts). MIDNIGHT_PP is where the
# bls_midnight_2p{k} files for k > 14 are mounted; k <= 14 needs no files.
COPY --from=build /src/package.json /src/index.js /src/index.d.ts /src/binding.js /src/binding.d.ts /src/midnight-native-prover.linux-x64-gnu.node ./
COPY --from=build /src/lib ./lib
COPY --from=build /src/bin ./bin
COPY --from=build /src/node_modules ./node_modules
RUN mkdir -p /var/cache/midnight-native-prover /var/lib/midnight/zk-params \
    && chown node:node /var/cache/midnight-native-prover \
    && node -e "require('./')"
USER 1000:1000
EXPOSE 6300
# No curl in the slim image: Node's fetch probes the port the service listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MIDNIGHT_PROOF_SERVER_PORT || 6300) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the service stops accepting, finishes the proofs in flight and exits 0. Give it the
# time (docker stop -t 120, compose stop_grace_period, k8s terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/cli.js", "serve"]
