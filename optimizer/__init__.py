"""Planning optimizers: camera placement, patrol routes, response posts and investment
portfolios (their own issue)."""

__all__: list[str] = []
