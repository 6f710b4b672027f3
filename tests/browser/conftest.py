"""A fresh page at phone or desktop size, in the light theme, on the ASGI server."""

from __future__ import annotations

import pytest

from .pages import new_context


@pytest.fixture
def phone(browser, asgi_server):
    context = new_context(browser, asgi_server, "phone", "light")
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser, asgi_server):
    context = new_context(browser, asgi_server, "desktop", "light")
    yield context.new_page()
    context.close()
