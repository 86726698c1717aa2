"""Reaching people where they are: which platform and address a person is written to on
(`people`), how the core names and mentions them, and the Teams conversation references the
Teams adapter stores so the bot can write first (`conversations`).
"""
