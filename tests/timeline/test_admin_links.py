"""The admin links each run to its timeline page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_run_list_and_the_run_page_in_the_admin_link_to_the_timeline(client, staff, tool_run):
    client.force_login(staff)
    link = f'<a href="/runs/{tool_run.run_id}/">timeline</a>'
    assert link in client.get("/admin/sessions_app/run/").content.decode()
    assert link in client.get(f"/admin/sessions_app/run/{tool_run.pk}/change/").content.decode()


def test_the_runs_inline_of_a_session_links_each_run_to_its_timeline(client, staff, tool_run):
    client.force_login(staff)
    body = client.get(f"/admin/sessions_app/agentsession/{tool_run.session.pk}/change/").content.decode()
    assert f'<a href="/runs/{tool_run.run_id}/">timeline</a>' in body
