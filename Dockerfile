# b24local as a container: `docker build -t b24local .`, then
#   docker run --rm -p 8024:8024 -v b24local-data:/data b24local
#   docker run --rm -p 8024:8024 -v "$PWD/ci/seed.yaml:/seed.yaml:ro" b24local --dev --seed /seed.yaml
# Arguments after the image name are added to `b24local serve`; so are those in
# B24LOCAL_ARGS (GitHub Actions' `services:` can set variables, not arguments).
FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user of its own; the data directory is the one place it writes.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin b24local \
    && mkdir /data && chown b24local:b24local /data

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# A regular (not editable) install: pip compiles the bytecode here, once, so no
# start of the container spends time compiling.
RUN pip install . && rm -rf /build
COPY docker/entrypoint.sh /usr/local/bin/b24local-entrypoint
COPY docker/healthcheck.py /usr/local/lib/b24local-healthcheck.py

USER b24local
WORKDIR /data
VOLUME /data
EXPOSE 8024
# GitHub Actions' service containers, and `docker run --wait`-style tooling, wait for it.
HEALTHCHECK --interval=2s --timeout=3s --start-period=1s --start-interval=0.2s --retries=15 \
    CMD ["python", "/usr/local/lib/b24local-healthcheck.py"]
ENTRYPOINT ["b24local-entrypoint"]
CMD []
