"""The portal's blueprint with every page on it: importing the page modules registers their
routes on `portal.blueprint.bp` (kept apart so that no module imports its own package's init)."""

from portal import auth, changes, views  # noqa: F401  (their routes register on the blueprint)
from portal.blueprint import bp, error_page

__all__ = ["bp", "error_page"]
