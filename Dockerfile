# The board's image: a release build on the Rust image, the binary alone on Debian slim.
#
#   docker build -t board-app .
#   docker build --build-arg RUST_IMAGE=rust:1.90-bookworm -t board-app .
#
# Build arguments: RUST_IMAGE and RUNTIME_IMAGE choose the bases (official images by default;
# scripts/stand-ins makes local ones where no registry answers); EXTRA_CA_CERTS (PEM text) is
# trusted by the build, for networks that re-sign HTTPS (a corporate proxy); BOARD_RELEASE
# names the release (the X-Board-Release header).
ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >> /etc/ssl/certs/ca-certificates.crt; fi
WORKDIR /build
# Dependencies first, in a layer of their own: it is rebuilt only when a manifest or the lock
# file changes, not when a source file does.
COPY Cargo.toml Cargo.lock ./
COPY app/Cargo.toml app/Cargo.toml
COPY orchestrator/Cargo.toml orchestrator/Cargo.toml
COPY tests/Cargo.toml tests/Cargo.toml
RUN mkdir -p app/src orchestrator/src tests/src \
 && echo 'fn main() {}' > app/src/main.rs && touch app/src/lib.rs \
 && echo 'fn main() {}' > orchestrator/src/main.rs && touch orchestrator/src/lib.rs \
 && touch tests/src/lib.rs \
 && cargo build --release --locked -p app \
 && rm -rf app/src target/release/.fingerprint/app-* target/release/deps/app-* target/release/deps/libapp-*
COPY app/ app/
COPY templates/ templates/
RUN cargo build --release --locked -p app && cp target/release/app /usr/local/bin/app

FROM ${RUNTIME_IMAGE}
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpq5; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin board
COPY --from=builder /usr/local/bin/app /usr/local/bin/app
USER board
ENV LISTEN_ADDR=0.0.0.0:8000 METRICS_ADDR=0.0.0.0:9000 STATIC_DIR=""
# A name for this build (BOARD_RELEASE): the app sends it as X-Board-Release. Last, so naming a
# release rebuilds one small layer.
ARG BOARD_RELEASE=""
ENV BOARD_RELEASE=${BOARD_RELEASE}
EXPOSE 8000 9000
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["/usr/local/bin/app", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/app"]
CMD ["serve"]
