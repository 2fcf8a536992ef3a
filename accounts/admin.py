"""The admin's view of users' tokens: listed per user, never the secret, revocable."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from knox.models import AuthToken

from accounts.services import tokens_live, tokens_revoke

User = get_user_model()


class RevokingPasswordChangeForm(AdminPasswordChangeForm):
    """Staff setting a password (say, after a compromise) also shut out every token of the old one."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            tokens_revoke(user=user)
        return user


def _last_used_at(token: AuthToken) -> Any:
    return token.detail.last_used_at if hasattr(token, "detail") else None


def _user_agent(token: AuthToken) -> str:
    return str(token.detail.user_agent) if hasattr(token, "detail") else ""


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    change_password_form = RevokingPasswordChangeForm
    readonly_fields = ("bearer_tokens",)
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Bearer tokens", {"fields": ("bearer_tokens",)}))

    @admin.display(description="live tokens")
    def bearer_tokens(self, user: Any) -> str:
        """The user's tokens, named by key prefix (never digest or secret), with a link to revoke them."""
        if user.pk is None:
            return "—"
        tokens = tokens_live(user=user)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (token.token_key, token.created, token.expiry, _last_used_at(token), _user_agent(token))
                for token in tokens
            ),
        )
        url = reverse("admin:knox_authtoken_changelist") + f"?user__id__exact={user.pk}"
        return format_html(
            "<table><tr><th>id</th><th>created</th><th>expires</th><th>last used</th><th>user agent</th></tr>"
            '{}</table><p><a href="{}">Revoke tokens of this user</a></p>',
            rows,
            url,
        )


# Knox's own admin shows each token's digest and lets staff mint tokens; ours
# names a token by its key prefix only and can only revoke.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("token_key", "user", "created", "expiry", "last_used_at", "user_agent")
    list_display_links = None
    list_filter = ["created", "expiry"]
    search_fields = ["token_key", "user__username"]
    list_select_related = ["user", "detail"]
    ordering = ["-created"]
    actions = ["revoke"]

    @admin.display(description="last used")
    def last_used_at(self, token: AuthToken) -> Any:
        return _last_used_at(token)

    @admin.display(description="user agent")
    def user_agent(self, token: AuthToken) -> str:
        return _user_agent(token)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke selected tokens", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[AuthToken]) -> None:
        _, deleted = queryset.delete()
        revoked = deleted.get(AuthToken._meta.label, 0)
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
