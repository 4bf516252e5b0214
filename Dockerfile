# Build a static binary, then run it as a non-root user on a minimal image.
# The builder's Go is the one go.mod asks for; GOTOOLCHAIN=local makes a
# mismatch fail the build instead of downloading another toolchain.
FROM golang:1.26.8-bookworm AS build
ENV GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tiltline . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tiltline /tiltline
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot:nonroot
ENV TILTLINE_DB=sqlite:/data/tiltline.db \
    TILTLINE_DATA_DIR=/data \
    TILTLINE_ADDR=:8080
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/tiltline", "healthcheck"]
ENTRYPOINT ["/tiltline"]
CMD ["serve"]
