# No `# syntax=` line: it makes BuildKit pull a front end from a registry, so offline and
# air-gapped builds would fail.
#
# paperboy's container image: built with cargo-chef so that dependencies are compiled in a
# layer of their own (rebuilt only when Cargo.toml or Cargo.lock change), shipped on
# distroless cc (glibc, libgcc, CA certificates, no shell) as the non-root user.
#
#   docker build -t paperboy .
#   docker run -p 8080:8080 -v paperboy-data:/data paperboy
#
# What it runs is what tests/api/process.rs runs: `paperboy serve` in a working directory
# holding only config/default.toml, the data directory given by environment, unprivileged.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

# The recipe: the dependency graph, from the manifests alone.
FROM chef AS planner
COPY . .
# cargo-chef 0.1.78 writes the package's edition onto every target of its skeleton manifest,
# which cargo reports as deprecated (one warning per target) on every cook: keep only the
# package's own (the first), which the targets inherit.
RUN cargo chef prepare --recipe-path recipe.json \
 && perl -0pi -e 'my $n = 0; s/edition = \\"\d+\\"\\n/$n++ ? "" : $&/ge' recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer stays cached while only paperboy's own code changes.
RUN cargo chef cook --locked --profile dist --bin paperboy --recipe-path recipe.json
COPY . .
# profile.dist: fat LTO, one codegen unit, stripped (Cargo.toml).
RUN cargo build --locked --profile dist --bin paperboy \
 && mkdir -p /out/data \
 && cp target/dist/paperboy /out/paperboy

FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=builder /out/paperboy /app/paperboy
COPY config/default.toml /app/config/default.toml
# An empty /data owned by nonroot (65532): a fresh named volume takes this ownership, so the
# unprivileged process can write to it.
COPY --from=builder --chown=65532:65532 /out/data /data
ENV PAPERBOY_SERVER__BIND=0.0.0.0 \
    PAPERBOY_STORAGE__DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
# The check's own HTTP timeout is 5 s; the interval also paces how soon compose's nginx,
# waiting for "healthy", starts.
HEALTHCHECK --interval=10s --timeout=10s --start-period=5s --retries=3 \
    CMD ["/app/paperboy", "healthcheck"]
ENTRYPOINT ["/app/paperboy"]
CMD ["serve"]
