# The cronrelay container action. Build: docker build -t cronrelay .
# The builder downloads modules in their own layer, then builds a static
# binary; the final stage is scratch with CA certificates. GitHub requires
# container actions to run as root, so there is no USER.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/cronrelay/cronrelay/internal/version.Version=${VERSION} -X github.com/cronrelay/cronrelay/internal/version.Commit=${COMMIT}" \
      -o /out/cronrelay ./cmd/cronrelay

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/cronrelay /cronrelay
ENTRYPOINT ["/cronrelay"]
CMD ["run"]
