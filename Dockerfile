# One image for every Guabang service; docker-compose.yml picks the service with its command
# (`guabang run <service>`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The services keep all state in Redis and RabbitMQ; they run unprivileged and cannot
# change the installed code.
RUN useradd --system --no-create-home --shell /usr/sbin/nologin guabang

WORKDIR /app

# The pinned dependencies first, read from pyproject.toml alone, so a change to the code
# reuses this layer instead of reinstalling every dependency.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# pyproject.toml names README.md as the package's description.
COPY README.md ./
COPY services ./services
RUN pip install . && rm -rf build *.egg-info

USER guabang

# The gateway's HTTP port (GUABANG_HTTP_PORT); the other services listen on nothing.
EXPOSE 8000

CMD ["guabang", "--help"]
