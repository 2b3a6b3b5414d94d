"""The web portal: focal points and coordinators read and acknowledge their organisation's
referrals; coordinators and admins see aggregate counts. Plain server-rendered HTML and a little
CSS, no JavaScript. `bp` is registered by `app.create_app`."""

from portal import auth, views  # noqa: F401  (their routes register on the blueprint)
from portal.blueprint import bp

__all__ = ["bp"]
