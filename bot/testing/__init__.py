"""Test doubles that ship with the package: a local fake of the Slack Web API."""
