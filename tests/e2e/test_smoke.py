import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_smoke(live_server, journey_factory):
    for command in ("load_network", "load_catalogue"):
        call_command(command, verbosity=0)
    j = journey_factory("visitor")
    j.page.goto(live_server.url + "/")
    j.step("home")
    j.page.goto(live_server.url + "/programmes/?q=数控")
    j.step("search")
