# One image for every process of the assistant; the first argument picks the role
# (deploy/entrypoint.sh): rasa | actions | worker | migrate | seed.
#   docker build -t quickconnect .        (needs a trained model: make train)
#   docker run quickconnect rasa          (see docker-compose.yml for the whole set)
# Python 3.11: Rasa 3.6 runs on it here (DEVELOPERS.md). The dependencies are the locked
# set the tests run on, installed the way `make install` does.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TF_ENABLE_ONEDNN_OPTS=0 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONPATH=/app

WORKDIR /app

# libpq for psycopg2's runtime; nothing is compiled (every locked package has a wheel)
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-deps --ignore-requires-python -r requirements/lock.txt

COPY quickconnect/ quickconnect/
COPY rasa_extensions/ rasa_extensions/
COPY actions/ actions/
COPY migrations/ migrations/
COPY web/ web/
COPY alembic.ini config.yml domain.yml endpoints.yml credentials.yml ./
COPY deploy/entrypoint.sh /usr/local/bin/quickconnect
# The project's spaCy pipeline (tokenizer and entity patterns) is built from the code, as
# `make spacy` does; the trained model comes from `make train` (models/ is not in git).
RUN python -m quickconnect.nlp.build_pipeline \
        --output "$(grep -o 'spacy_models/qc_en_v[0-9]*' config.yml | head -n 1)"
COPY models/quickconnect.tar.gz models/quickconnect.tar.gz

# An unprivileged user whose only writable place is var/ (its home: Rasa, TensorFlow and
# spaCy keep small caches there; outbox files go to var/outbox when no SMTP server is set)
RUN useradd --system --uid 1001 --home-dir /app/var quickconnect \
    && mkdir -p /app/var && chown -R quickconnect /app/var
ENV HOME=/app/var
USER 1001

# 5005: Rasa server (REST, web chat, agent console); 5055: action server
EXPOSE 5005 5055
ENTRYPOINT ["quickconnect"]
CMD ["rasa"]
