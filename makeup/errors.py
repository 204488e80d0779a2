class DomainError(Exception):
    """A refused business action, with a message a person can read."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
