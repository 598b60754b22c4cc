"""``swarmtui serve``: the run in a browser (a phone through an SSH tunnel, say).

``fleet.py`` turns the projected state into the page's JSON (pure), ``page.py`` is the page,
``auth.py`` the access token and session cookie, ``server.py`` the HTTP server.
"""
