"""`python -m bot.cli ...` is `isadei ...`."""

from bot.cli.commands import main

main()
