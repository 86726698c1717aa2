"""school-support-bot: brokers school-to-school support in Slack."""
