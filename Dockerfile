# Build stage: compile a release binary.
# The toolchain the project is built and tested with (Swift 6.3).
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev libssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# Cross-module optimization as in scripts/build-release (the flag must reach every package, so on the command line).
RUN swift build -c release --product handover --static-swift-stdlib -Xswiftc -cross-module-optimization \
    && cp "$(swift build -c release --show-bin-path)/handover" /handover \
    && cp -r "$(swift build -c release --show-bin-path)/handover_HandoverHTTP.resources" /handover_HandoverHTTP.resources

# Run stage: a slim Debian with only the runtime libraries.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 zlib1g libssl3 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data handover && mkdir -p /data && chown handover /data
COPY --from=build /handover /usr/local/bin/handover
COPY --from=build /handover_HandoverHTTP.resources /usr/local/bin/handover_HandoverHTTP.resources
USER handover
WORKDIR /data
EXPOSE 8443 8444
ENTRYPOINT ["/usr/local/bin/handover"]
CMD ["serve", "--host", "0.0.0.0"]
