# Kefu: one static binary on a minimal base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/kefu-chat/kefu/internal/app.Version=${VERSION}" -o /out/kefu ./cmd/kefu

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kefu /usr/local/bin/kefu
ENV KEFU_LISTEN=:8080 KEFU_DATA_DIR=/data KEFU_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/kefu"]
CMD ["serve"]
