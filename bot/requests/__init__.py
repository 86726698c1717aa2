"""Requests for support: intake (capture, tags, editing, cancelling), tagging, the changes
posted back to channels, and the `requests list` report.
"""
