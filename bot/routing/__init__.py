"""Routing: ranking supporters (`matching`), offering a request to them, acceptance, declines,
suggestions and escalation (`service`).
"""
