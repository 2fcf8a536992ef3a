"""The admin's view of users' tokens: listed per user, never the secret, revocable."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from knox.models import AuthToken

from accounts.services import tokens_revoke

User = get_user_model()


class RevokingPasswordChangeForm(AdminPasswordChangeForm):
    """Staff setting a password (say, after a compromise) also shut out every token of the old one."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            tokens_revoke(user=user)
        return user


class TokenInline(admin.TabularInline):
    model = AuthToken
    fields = ("token_key", "created", "expiry", "last_used_at", "user_agent")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "bearer tokens (revoke them from the token list)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuthToken]:
        return super().get_queryset(request).select_related("detail")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="last used")
    def last_used_at(self, token: AuthToken) -> Any:
        return token.detail.last_used_at if hasattr(token, "detail") else None

    @admin.display(description="user agent")
    def user_agent(self, token: AuthToken) -> str:
        return str(token.detail.user_agent) if hasattr(token, "detail") else ""


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    change_password_form = RevokingPasswordChangeForm
    inlines = [TokenInline]


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

    last_used_at = TokenInline.last_used_at
    user_agent = TokenInline.user_agent

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
