"""Where attempts run, behind one interface (``base.Runner``): the local tmux server first."""
