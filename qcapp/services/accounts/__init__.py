"""Accounts: sign-in, the login throttle and safe redirects after it."""
