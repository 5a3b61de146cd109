# authbot container: a static binary in an empty image.
#
#   docker build -t authbot .
#   docker run -d --name authbot -v authbot-data:/data \
#     -v ./config.yaml:/etc/authbot/config.yaml:ro authbot
#
# config.example.yaml works as written: AUTHBOT_DATA_DIR=/data (set below)
# puts the data in the volume whatever data_dir says, and the health check
# reads the same config (its /healthz when metrics.listen is set, else the
# backup socket in /data).
#
# The bot runs as uid:gid 65532:65532. A named volume gets that owner from
# the image; for a bind mount run `install -d -m 0700 -o 65532 -g 65532 ./data`.
# The config must be readable by 65532 (`chgrp 65532 config.yaml; chmod 0640
# config.yaml`); keep secrets out of it with -e AUTHBOT_TELEGRAM_TOKEN=... or
# a *_file key pointing at a mounted secret.

# Pinned: the toolchain that built and tested this tree (go1.26.8).
FROM golang:1.26.8-bookworm AS build
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
ENV HOME=/data AUTHBOT_DATA_DIR=/data
VOLUME ["/data"]
# No shell or curl in scratch: the binary checks itself, through the same
# config serve runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/authbot", "healthcheck", "--config", "/etc/authbot/config.yaml"]
ENTRYPOINT ["/authbot"]
CMD ["serve", "--config", "/etc/authbot/config.yaml"]
