"""Browser tests: Playwright driving Debian's Chromium against capmap served on 127.0.0.1."""
