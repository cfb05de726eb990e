"""The project's database backend: Django's PostgreSQL backend, its batches bounded (see ``base``)."""
