"""Back office of payment plans."""


def panels_register() -> None:
    pass
