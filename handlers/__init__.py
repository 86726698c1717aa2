"""Chat-platform adapters: `handlers/slack/` today, `handlers/teams/` beside it later."""
