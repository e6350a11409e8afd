"""A worker warms up what the apps registered (ouc_portal.celery.register_warm_up): the
certificates app's URL configuration and PDF stylesheets, on either start-up signal."""

from __future__ import annotations

import pytest
from celery.signals import worker_process_init, worker_ready

from certificates import apps as certificates_apps
from certificates import rendering
from ouc_portal import celery


def test_the_certificates_app_registered_its_warm_up():
    assert certificates_apps.warm_up in celery._warm_ups
    celery.register_warm_up(certificates_apps.warm_up)
    assert celery._warm_ups.count(certificates_apps.warm_up) == 1


@pytest.mark.parametrize("signal", [worker_process_init, worker_ready])
def test_a_starting_worker_loads_the_pdf_stylesheets_and_fonts(monkeypatch, signal):
    calls = []
    monkeypatch.setattr(rendering, "warm_up", lambda: calls.append("pdf"))
    signal.send(sender=None)
    assert calls == ["pdf"]
