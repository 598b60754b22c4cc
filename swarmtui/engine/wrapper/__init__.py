"""The wrapper: the process in each agent's tmux window that runs the agent CLI and writes
its protocol files. It knows nothing of the supervisor."""
