"""The web portal: focal points and coordinators read and acknowledge their organisation's
referrals; coordinators and admins see aggregate counts. Plain server-rendered HTML and a little
CSS, no JavaScript. `portal.pages.bp` is registered by `app.create_app`."""
