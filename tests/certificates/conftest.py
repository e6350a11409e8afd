import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path_factory):
    """Issued PDFs go to a folder of this test, never to the checkout's var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT
