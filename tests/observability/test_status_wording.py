"""The status page says each thing once: a probe's detail that repeats its state is not shown again."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_a_model_that_answers_reads_answers_once(client, staff, app_model, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    client.login(username="ops", password=PASSWORD)
    page = client.get("/status/").content.decode()
    assert '<span id="model-state">answers</span>' in page
    assert "answers (answers)" not in page and "</span> (answers)" not in page
