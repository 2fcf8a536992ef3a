from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    default = True

    def ready(self) -> None:
        from accounts import checks  # noqa: F401  # registers the system check


class ThrottledAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with a login form under the failed-login limit."""

    default = False
    default_site = "accounts.sites.ThrottledAdminSite"
