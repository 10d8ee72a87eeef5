# runai-reconcile as a container image, for drift jobs and CI runners without Python:
#   docker build -t runai-reconcile .
#   docker run --rm -v "$PWD/config:/config" -e RUNAI_URL -e RUNAI_CLIENT_ID -e RUNAI_CLIENT_SECRET \
#       runai-reconcile drift /config
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the wheel needs: the package, its schemas and the project metadata.
COPY pyproject.toml README.md /src/
COPY reconcile /src/reconcile
COPY schemas /src/schemas
RUN pip install /src && rm -rf /src \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin runai

# A numeric user, so Kubernetes can check `runAsNonRoot` without reading /etc/passwd.
USER 10001
WORKDIR /config
ENTRYPOINT ["runai-reconcile"]
CMD ["--help"]
