import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path_factory):
    """Issued PDFs go to a folder of this test, never to the checkout's var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture
def quick_pdf(monkeypatch):
    """The PDF renderer (another module) replaced by a stub, for tests about the credential and
    its verification, which never read the PDF's pages (media is isolated above). Modules take it
    with ``pytestmark = pytest.mark.usefixtures("quick_pdf")``."""
    from tests.certificates.test_credentials import stub_pdf

    stub_pdf(monkeypatch)
