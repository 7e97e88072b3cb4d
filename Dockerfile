# Slim runtime: the service as a non-root user, its SQLite file on a volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY calendar_service ./calendar_service
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CALENDAR_DATABASE_URL=sqlite:////data/calendar.db \
    CALENDAR_FEEDS_DIR=/app/feeds
# Pango and a font for WeasyPrint (the printed programme and flyers).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app calendar \
    && mkdir -p /data /app \
    && chown calendar /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
COPY feeds /app/feeds
WORKDIR /app
USER calendar
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["calendar-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
