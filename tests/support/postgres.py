"""A throw-away PostgreSQL schema, so tests and benchmarks never touch real tables and parallel
runs never see each other's rows."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text

from storage.db import make_engine


@contextmanager
def private_schema(base_url: str, prefix: str = "intake_test") -> Iterator[str]:
    """Create an empty schema in `base_url`'s database; yield a URL whose connections use it;
    drop it (and everything in it) afterwards."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
