"""The small shared core: clock, settings, errors, audit, vocabulary, school calendar, logs,
metrics and the services' context. It imports no domain and no chat platform.
"""
