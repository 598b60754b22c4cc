"""Layers of the prompt-injection screen: normalise, score (rules and a small classifier), and an
optional model-backed judge for the uncertain band. The public entry point is
``swarmtui.engine.guard.screen``; the layers live here so each can be tested on its own."""
