# tgscript in a container: `docker build -t tgscript .`, then
#   docker run -v tgscript-data:/var/lib/tgscript -v "$PWD/bot:/etc/tgscript:ro" \
#     -e TELOXIDE_TOKEN=… tgscript
# reads /etc/tgscript/tgscript.toml (scenarios beside it) and keeps its store in the volume.
# glibc on both stages: libtdjson (TDLib, for user accounts) is loaded at run time.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV XDG_DATA_HOME=/src/data
RUN cargo build --profile dist --locked \
 && ./target/dist/tgscript tdlib install \
 && cp /src/data/tgscript/lib/libtdjson.so /src/libtdjson.so

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates=20230311* \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tgscript \
 && useradd --system --gid 10001 --uid 10001 --home-dir /var/lib/tgscript --create-home tgscript
COPY --from=build /src/target/dist/tgscript /usr/local/bin/tgscript
COPY --from=build /src/libtdjson.so /usr/local/lib/libtdjson.so
USER 10001:10001
WORKDIR /var/lib/tgscript
VOLUME ["/var/lib/tgscript"]
ENV TGSCRIPT_CONFIG=/etc/tgscript/tgscript.toml \
    TGSCRIPT_STORE_PATH=/var/lib/tgscript/tgscript.db
# The gateway and console, when the config's [gateway] listen is e.g. "0.0.0.0:8377" (with a
# token: listening beyond loopback without one is refused).
EXPOSE 8377
STOPSIGNAL SIGTERM
ENTRYPOINT ["tgscript"]
CMD ["run"]
