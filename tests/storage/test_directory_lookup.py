"""The host's directory (storage.directory_lookup) is what the engine's port (intake.ports)
describes, and answers from the database."""

from __future__ import annotations

from intake.ports import Directory
from storage.directory_lookup import DirectoryLookup
from tests.support.directory import with_directory


def test_the_database_directory_fits_the_engines_port(app):
    with_directory(app)
    with app.extensions["intake"].sessions() as session:
        directory = DirectoryLookup(session)
        assert isinstance(directory, Directory)
        assert directory.available
        assert directory.match_organisation("Demo Relief Agency")["name"].endswith("(DRA)")
