# One image with the three release binaries: metrics-svc, lifecycle-svc and
# growthctl (the CronJobs run growthctl). Build from the repository's root:
#
#   docker build -t growth:dev .
#
# The build stage is Debian 12 (bookworm), like the runtime image
# (distroless cc-debian12), so the binaries' glibc is the runtime's. The
# runtime image has no shell, runs as uid 65532 (nonroot) and carries the CA
# certificates the HTTP clients (Stripe, Kit, Anthropic, Slack) verify with.
# deploy/README.md says how it is deployed.

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src

# The dependency layer: the manifests, the lock file and the contracts, with
# empty crate roots, compiled once; it is rebuilt only when one of them
# changes, not when the code does.
COPY Cargo.toml Cargo.lock ./
COPY proto/ proto/
COPY services/runtime/Cargo.toml services/runtime/
COPY services/metrics/Cargo.toml services/metrics/
COPY services/lifecycle/Cargo.toml services/lifecycle/
COPY clients/growthctl/Cargo.toml clients/growthctl/
COPY clients/growth-dev/Cargo.toml clients/growth-dev/
COPY tests/Cargo.toml tests/
RUN set -eu; \
    for root in services/runtime/src/lib.rs \
                services/metrics/src/lib.rs services/metrics/src/main.rs services/metrics/tests/api/main.rs \
                services/lifecycle/src/lib.rs services/lifecycle/src/main.rs services/lifecycle/tests/api/main.rs \
                clients/growthctl/src/lib.rs clients/growthctl/src/main.rs clients/growthctl/tests/cli/main.rs \
                clients/growth-dev/src/lib.rs clients/growth-dev/src/main.rs \
                tests/src/lib.rs tests/e2e/main.rs; do \
        mkdir -p "$(dirname "$root")"; \
        case "$root" in */main.rs) echo 'fn main() {}' > "$root" ;; *) : > "$root" ;; esac; \
    done; \
    cargo build --release --locked -p metrics-svc -p lifecycle-svc -p growthctl

# The code. Its files keep their own modification times, which can be older
# than the empty roots built above: touching them makes cargo rebuild the
# workspace's crates (and only them).
COPY . .
RUN find proto services clients tests -name '*.rs' -exec touch {} + \
    && cargo build --release --locked -p metrics-svc -p lifecycle-svc -p growthctl \
    && mkdir -p /out \
    && cp target/release/metrics-svc target/release/lifecycle-svc target/release/growthctl /out/

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
EXPOSE 50051 50052 8081 8082
ENTRYPOINT ["/usr/local/bin/metrics-svc"]
