"""`python -m bot …` runs the command-line interface."""

from bot.entry.cli import main

raise SystemExit(main())
