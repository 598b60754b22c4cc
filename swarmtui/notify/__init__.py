"""Push notifications: alerts sent to the operator's phone through apprise (``push.py``), in
words that say the task, why and the command that acts on it (``message.py``)."""
