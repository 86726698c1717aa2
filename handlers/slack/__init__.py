"""The Slack adapter: the Bolt app and middleware, listeners, Block Kit renderers, the
manifest, the payload shape check and the local stand-in for Slack. Only this package (and the
composition root in `bot.entry`) imports `slack_bolt` or `slack_sdk`.
"""
