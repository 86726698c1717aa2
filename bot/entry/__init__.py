"""Entry points and the composition root: the CLI, the demo, the server and its web app,
the runtime that wires everything together, and the due-work list and scheduler.
"""
