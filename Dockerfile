# The cronrelay container action, also usable as a plain image (a Kubernetes
# CronJob, a GitLab scheduled pipeline): docker build -t cronrelay .
#
# GitHub's runner builds this file with a plain `docker build` when
# action.yml says `image: Dockerfile`, so it uses no build flags and no
# BuildKit-only syntax. Releases publish the same build to ghcr.io and point
# action.yml at it (.github/workflows/release.yml).
#
# The builder downloads modules in their own layer, so a source change does
# not download them again, then builds a static binary. The zone database is
# compiled in (time/tzdata), so the final stage needs only the binary and the
# CA bundle. GitHub requires container actions to run as root, so the final
# stage has no USER and no WORKDIR (the runner sets /github/workspace).
FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
ARG VERSION=dev
ARG COMMIT=none
RUN go build -trimpath \
      -ldflags "-s -w -X github.com/cronrelay/cronrelay/internal/version.Version=${VERSION} -X github.com/cronrelay/cronrelay/internal/version.Commit=${COMMIT}" \
      -o /out/cronrelay ./cmd/cronrelay \
 && /out/cronrelay version

FROM scratch
LABEL org.opencontainers.image.title="cronrelay" \
      org.opencontainers.image.description="Scheduled and delayed HTTP jobs for serverless apps, as a GitHub Action" \
      org.opencontainers.image.source="https://github.com/cronrelay/cronrelay" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/cronrelay /cronrelay
ENTRYPOINT ["/cronrelay"]
CMD ["run"]
