# Parlor's image: gunicorn (gunicorn.conf.py) on 0.0.0.0:$PORT, configured only through the
# environment, as a non-root user. `IMAGE` serves, `IMAGE migrate` migrates and exits, any other
# command runs as given (`flask --app run …` works). See the README's deployment section.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# Build: a virtual environment with the pinned versions of requirements.lock, then whatever
# pyproject.toml (the source of truth) declares beyond it, held to the lock's pins, and a
# consistency check of the whole.
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/parlor
WORKDIR /tmp/parlor
COPY requirements.lock ./
RUN /opt/parlor/bin/pip install --quiet --requirement requirements.lock
COPY pyproject.toml ./
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > declared.txt \
    && /opt/parlor/bin/pip install --quiet --constraint requirements.lock --requirement declared.txt \
    && /opt/parlor/bin/pip check

# Run: the environment and the source tree, nothing else (no compilers, no pip cache).
FROM ${BASE_IMAGE}
ENV PATH=/opt/parlor/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PARLOR_ENV=production \
    PARLOR_INSTANCE_PATH=/var/lib/parlor \
    HOST=0.0.0.0 \
    PORT=5000
RUN groupadd --system --gid 10001 parlor \
    && useradd --system --uid 10001 --gid parlor --home-dir /var/lib/parlor --no-create-home \
        --shell /usr/sbin/nologin parlor \
    && install -d -o parlor -g parlor -m 0750 /var/lib/parlor
COPY --from=build /opt/parlor /opt/parlor
WORKDIR /app
COPY config.py run.py gunicorn.conf.py ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY deploy/entrypoint.sh /usr/local/bin/parlor-entrypoint
USER 10001:10001
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '5000'), timeout=4)"]
ENTRYPOINT ["parlor-entrypoint"]
CMD ["serve"]
