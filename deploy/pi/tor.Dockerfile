# Tor from Debian's own packages (arm64 and amd64), run as uid 65532 like the tronpay image so
# that the edge can read the control cookie. The torrc is mounted by docker-compose.yml.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tor ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/tor /var/lib/tor-auth \
 && chown 65532:65532 /var/lib/tor /var/lib/tor-auth \
 && chmod 0700 /var/lib/tor /var/lib/tor-auth
USER 65532:65532
ENTRYPOINT ["tor", "-f", "/etc/tor/torrc"]
