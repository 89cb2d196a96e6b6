# tipline: one image for every part (tipline serve --roles …). Build: docker build -t tipline .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/tipline ./cmd/tipline

# The runtime carries Tesseract with Simplified Chinese and English, and poppler for PDF pages.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng poppler-utils ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/tipline --shell /usr/sbin/nologin tipline \
 && mkdir -p /var/lib/tipline && chown tipline:tipline /var/lib/tipline
COPY --from=build /out/tipline /usr/local/bin/tipline
USER 10001
# tipline keeps its ops listener on loopback unless told otherwise; in a container the network
# namespace is the boundary, and the probes and Prometheus reach it from outside the container,
# so the image says so explicitly. Publishing 8082 (docker run -p) remains the operator's choice.
ENV TIPLINE_DATA_DIR=/var/lib/tipline TZ=Asia/Shanghai TIPLINE_OPS_ADDR=:8082
VOLUME /var/lib/tipline
# 8080 citizens' page and API, 8081 analysts' API (loopback until accounts exist), 8082 metrics and health
EXPOSE 8080 8082
HEALTHCHECK --interval=15s --timeout=3s --retries=4 CMD ["/usr/local/bin/tipline", "health", "--url", "http://127.0.0.1:8082/readyz"]
ENTRYPOINT ["/usr/local/bin/tipline"]
CMD ["serve"]
