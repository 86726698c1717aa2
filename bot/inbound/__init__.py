"""Inbound events saved before they are acknowledged, so a 200 is a promise."""
