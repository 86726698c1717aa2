"""A local stand-in for Slack, shipped for `python -m bot demo`: a fake Web API, a signing
sender, the running world and a readable transcript. The tests use it too.
"""
