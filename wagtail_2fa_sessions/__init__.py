"""See who is logged in to a Wagtail site, how each account uses 2FA, and act on it.

The public entry point for other code is :mod:`wagtail_2fa_sessions.api`.
"""

__version__ = "0.1.0"
