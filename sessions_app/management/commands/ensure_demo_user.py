from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create (or reset) the demo logins for a local run and print them."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        logins = [
            ("demo", os.environ.get("DEMO_PASSWORD", "demo-password"), False),
            ("admin", os.environ.get("ADMIN_PASSWORD", "admin-password"), True),
        ]
        for username, password, staff in logins:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = staff
            user.set_password(password)
            user.save()
        self.stdout.write(self.style.SUCCESS("Demo logins (sign in at /login/):"))
        for username, password, staff in logins:
            role = "staff, can open /admin/" if staff else "a regular user"
            self.stdout.write(f"  {username} / {password}   ({role})")
