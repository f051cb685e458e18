"""The click wrappers of the `cardrepro` subcommands (cardrepro/cli.py imports each only when used).
Each reads its arguments and calls its stage's functions; heavy imports stay inside the bodies."""
