"""Accounts: which ``[[accounts]]`` entry an attempt runs on (its task's fallback list, which
may cross CLIs: ``fallback``), and its credential.

``choose`` is pure (the run's projection and the config in, a decision out): the first account
that is not usage-limited and under its cost cap; when an attempt hits a usage limit, whether
another account is free at once or when the earliest one is. ``credential`` reads the chosen
account's key (from the supervisor's environment or a file) when an attempt starts, and puts
it into the attempt's environment under the variable its CLI reads.
"""
