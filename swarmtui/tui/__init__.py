"""The Textual app: window 0 of a run's tmux session, and `swarmtui watch` (see app.run_app)."""
