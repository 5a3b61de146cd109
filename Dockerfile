# authbot container: a static binary in an empty image.
#
#   docker build -t authbot .
#   docker run -d --name authbot -v authbot-data:/data \
#     -v ./config.yaml:/etc/authbot/config.yaml:ro authbot
#
# Set data_dir: /data and metrics.listen: 127.0.0.1:9090 (or :9090) in the
# config so the health check can reach /healthz.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0 and the goolm tag (pure-Go Matrix crypto) give a static
# binary that runs in an empty image; -trimpath keeps build paths out.
RUN CGO_ENABLED=0 go build -tags goolm -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/authbot ./cmd/authbot
# The data dir, owned by the unprivileged user the bot runs as.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

FROM scratch
# CA roots for api.telegram.org and Matrix homeservers over TLS.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/authbot /authbot
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HOME=/data
VOLUME ["/data"]
# No shell or curl in scratch: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/authbot", "healthcheck", "--url", "http://127.0.0.1:9090/healthz"]
ENTRYPOINT ["/authbot"]
CMD ["serve", "--config", "/etc/authbot/config.yaml"]
