"""Errors that reach the user as one line `FILE:LINE: what is wrong` and exit code 2."""


class CardError(Exception):
    """Bad input: a card, a project folder or an argument that cannot be used."""

    def __init__(self, path, line, message):
        super().__init__(message)
        self.path = str(path)
        self.line = line
        self.message = message

    def __str__(self):
        return f"{self.path}:{self.line if self.line is not None else 0}: {self.message}"
