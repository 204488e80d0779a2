FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN export DEBUG=0 ALLOWED_HOSTS=build \
      SECRET_KEY=collectstatic-only-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789 \
    && python manage.py collectstatic --noinput \
    && python manage.py translations compile
RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
