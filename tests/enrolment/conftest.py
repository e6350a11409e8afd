import pytest


@pytest.fixture
def client(client):
    """These tests read English text; the portal's default language is Chinese."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
