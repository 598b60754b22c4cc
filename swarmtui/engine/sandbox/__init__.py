"""The OS box an attempt runs in (bubblewrap on Linux): the argv around the agent's command,
its mounts, the probe that says whether it works here, the per-attempt git refs it commits to
and the channel through which it asks the supervisor for things as itself."""
