"""`python -m bot` is the same as the `coordbot` command."""

from bot.cli import main

main()
