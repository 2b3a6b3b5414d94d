"""The portal's blueprint with every page on it: importing the page modules registers their
routes on `portal.blueprint.bp` (kept apart so that no module imports its own package's init)."""

# Each import registers that module's routes on the blueprint.
from portal import access  # noqa: F401
from portal import account  # noqa: F401
from portal import admin  # noqa: F401
from portal import admin_records  # noqa: F401
from portal import auth  # noqa: F401
from portal import casework  # noqa: F401
from portal import changes  # noqa: F401
from portal import dashboard  # noqa: F401
from portal import enrol  # noqa: F401
from portal import views  # noqa: F401
from portal.blueprint import bp, error_page

__all__ = ["bp", "error_page"]
