"""Django admin for the network.

Superusers see and change everything. A school administrator (``is_staff`` and a school-admin
``Membership``; no Django model permissions needed) sees and edits only the rows of the schools they
administer: those schools, their agreements, the learning centres linked to them. They add and
delete nothing — which schools, partners and centres exist comes from ``load_network`` and the
superusers — and they never see memberships. Scope comes from ``schools.roles.roles_for``, the
same helper every view uses, not from Django groups, so granting a membership is all it takes.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from schools.models import (
    AgreementSignatory,
    CooperationAgreement,
    IndustrySchool,
    LearningCentre,
    Membership,
    PartnerAssociation,
)
from schools.roles import Roles, roles_for
from schools.services import membership_grant, membership_revoke


def _school_admin(request: HttpRequest) -> Roles | None:
    """The roles of a school administrator working in the admin, or None for everyone else.

    Superusers are left to Django's own rules (they hold every permission), as is anyone without a
    school; a reviewer or credit-bank officer who is_staff gets no network rows through this path.
    """
    roles = roles_for(request.user)
    if roles.superuser or not roles.is_school_admin or not request.user.is_staff:
        return None
    return roles


class SchoolScopedAdmin(admin.ModelAdmin):
    """Narrows a model admin to the rows of the schools the school administrator runs.

    A subclass says how its rows reach a school (``school_scope``); whether a school administrator
    may view or change them (``school_admin_can_change``); which fields they may not touch because
    other rows or public URLs depend on them (``school_admin_readonly``).
    """

    school_admin_can_change = True
    school_admin_readonly: tuple[str, ...] = ()

    def school_scope(self, school_ids: frozenset[int]) -> Q | None:
        """The rows of these schools; None means every row (viewable, never changeable)."""
        raise NotImplementedError

    def _scoped(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        roles = _school_admin(request)
        if roles is None:
            return queryset
        scope = self.school_scope(roles.school_ids)
        # A centre taught by two of one person's schools would otherwise be listed twice.
        return queryset if scope is None else queryset.filter(scope).distinct()

    def _in_scope(self, request: HttpRequest, obj) -> bool:
        return (
            obj is None
            or self._scoped(request, self.model._default_manager.filter(pk=obj.pk)).exists()
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self._scoped(request, super().get_queryset(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _school_admin(request) is not None or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        if _school_admin(request) is None:
            return super().has_view_permission(request, obj)
        return self._in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if _school_admin(request) is None:
            return super().has_change_permission(request, obj)
        return self.school_admin_can_change and self._in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _school_admin(request) is None and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return _school_admin(request) is None and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if _school_admin(request) is not None:
            readonly += tuple(f for f in self.school_admin_readonly if f not in readonly)
        return readonly

    def get_prepopulated_fields(self, request: HttpRequest, obj=None) -> dict:
        # A slug is filled from the name when a row is added, never rewritten on a change: the
        # slug is in public URLs and is how load_network finds the row again.
        return super().get_prepopulated_fields(request, obj) if obj is None else {}

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        roles = _school_admin(request)
        if roles is not None:
            queryset = _choices_for(db_field.related_model, roles)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        roles = _school_admin(request)
        if roles is not None:
            queryset = _choices_for(db_field.related_model, roles)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _choices_for(model, roles: Roles) -> QuerySet | None:
    """What a school administrator may pick in a form: only their schools and those schools' centres."""
    if model is IndustrySchool:
        return IndustrySchool.objects.filter(pk__in=roles.school_ids)
    if model is LearningCentre:
        return LearningCentre.objects.filter(schools__in=roles.school_ids).distinct()
    return None


@admin.register(IndustrySchool)
class IndustrySchoolAdmin(SchoolScopedAdmin):
    list_display = ["name_en", "name_zh", "industry", "founded_on", "updated_at"]
    list_filter = ["industry", "founded_on"]
    search_fields = ["name_en", "name_zh", "slug", "description_en", "description_zh"]
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = ["created_at", "updated_at"]
    school_admin_readonly = ("slug", "industry", "founded_on")
    fieldsets = [
        (None, {"fields": ["slug", "industry", "founded_on"]}),
        (_("English"), {"fields": ["name_en", "description_en"]}),
        (_("Chinese"), {"fields": ["name_zh", "description_zh"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    def school_scope(self, school_ids: frozenset[int]) -> Q:
        return Q(pk__in=school_ids)


@admin.register(PartnerAssociation)
class PartnerAssociationAdmin(SchoolScopedAdmin):
    """School administrators may look their partners up but change them only through superusers."""

    list_display = ["name_en", "name_zh", "kind", "website"]
    list_filter = ["kind"]
    search_fields = ["name_en", "name_zh", "slug"]
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = ["created_at", "updated_at"]
    school_admin_can_change = False
    fieldsets = [
        (None, {"fields": ["slug", "kind", "website"]}),
        (_("English"), {"fields": ["name_en", "description_en"]}),
        (_("Chinese"), {"fields": ["name_zh", "description_zh"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    def school_scope(self, school_ids: frozenset[int]) -> None:
        return None  # partners are public (their own pages list them): every one is viewable


class AgreementSignatoryInline(admin.TabularInline):
    """Signatories follow their agreement: whoever may change the agreement may edit its signers."""

    model = AgreementSignatory
    extra = 0
    fields = ["side", "position", "name_en", "name_zh", "title_en", "title_zh"]
    ordering = ["side", "position"]

    def _agreement_admin(self) -> SchoolScopedAdmin:
        return self.admin_site._registry[CooperationAgreement]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        if _school_admin(request) is None:
            return super().has_view_permission(request, obj)
        return self._agreement_admin().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if _school_admin(request) is None:
            return super().has_change_permission(request, obj)
        return obj is not None and self._agreement_admin().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.has_change_permission(request, obj)
            if _school_admin(request)
            else (super().has_add_permission(request, obj))
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            self.has_change_permission(request, obj)
            if _school_admin(request)
            else (super().has_delete_permission(request, obj))
        )


@admin.register(CooperationAgreement)
class CooperationAgreementAdmin(SchoolScopedAdmin):
    list_display = ["title_en", "school", "learning_centre", "association", "signed_on"]
    list_filter = [
        ("school", admin.RelatedOnlyFieldListFilter),
        "school__industry",
        "association__kind",
        "signed_on",
    ]
    list_select_related = ["school", "learning_centre", "association"]
    search_fields = [
        "code", "title_en", "title_zh", "association__name_en", "association__name_zh",
        "signatories__name_en", "signatories__name_zh",
    ]  # fmt: skip
    date_hierarchy = "signed_on"
    readonly_fields = ["created_at", "updated_at"]
    school_admin_readonly = ("code",)
    inlines = [AgreementSignatoryInline]
    fieldsets = [
        (
            None,
            {"fields": ["code", "school", "learning_centre", "association", "signed_on", "source"]},
        ),
        (_("English"), {"fields": ["title_en", "summary_en"]}),
        (_("Chinese"), {"fields": ["title_zh", "summary_zh"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    def school_scope(self, school_ids: frozenset[int]) -> Q:
        # A school's own agreements, and those of the centres its school teaches at (the BAIC
        # centre's agreement is signed for the centre, not for a school).
        return Q(school__in=school_ids) | Q(learning_centre__schools__in=school_ids)


@admin.register(LearningCentre)
class LearningCentreAdmin(SchoolScopedAdmin):
    list_display = ["name_en", "name_zh", "kind", "level", "province", "city", "parent"]
    list_filter = ["kind", "level", "province", ("schools", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["code", "name_en", "name_zh", "city", "host_en", "host_zh", "operator_en"]
    filter_horizontal = ["schools"]
    readonly_fields = ["created_at", "updated_at"]
    # The parent and level place the centre in OUC's four-level structure: not a school's call.
    school_admin_readonly = ("code", "parent", "kind", "level")
    fieldsets = [
        (None, {"fields": ["code", "kind", "level", "parent", "schools", "opened_on"]}),
        (_("Where"), {"fields": ["province", "city"]}),
        (_("English"), {"fields": ["name_en", "host_en", "operator_en", "description_en"]}),
        (_("Chinese"), {"fields": ["name_zh", "host_zh", "operator_zh", "description_zh"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    def school_scope(self, school_ids: frozenset[int]) -> Q:
        return Q(schools__in=school_ids)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # A school administrator's form offers only their own schools, so saving it would unlink the
        # centre from every other school that teaches there. Put those links back.
        roles = _school_admin(request)
        kept: list[int] = []
        if roles is not None and change:
            kept = list(
                LearningCentre.schools.through.objects.filter(learningcentre=form.instance)
                .exclude(industryschool__in=roles.school_ids)
                .values_list("industryschool_id", flat=True)
            )
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.schools.add(*kept)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Superusers only. Roles are granted and revoked through the services, never edited in place:
    to move someone to another school, revoke one membership and grant another."""

    list_display = ["user", "role", "school", "association", "granted_at", "granted_by"]
    list_filter = ["role", ("school", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "school", "association", "granted_by"]
    search_fields = ["user__email", "user__name", "school__name_en", "association__name_en"]
    autocomplete_fields = ["user"]
    fields = ["user", "role", "school", "association", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]

    def _superuser(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._superuser(request)

    def save_model(self, request: HttpRequest, obj: Membership, form, change: bool) -> None:
        granted = membership_grant(
            user=obj.user,
            role=obj.role,
            school=obj.school,
            association=obj.association,
            granted_by=request.user,
        )
        # The admin goes on to log and redirect to ``obj``: make it the row the service wrote.
        obj.pk, obj.granted_at, obj.granted_by = granted.pk, granted.granted_at, granted.granted_by

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_revoke(
            user=obj.user,
            role=obj.role,
            school=obj.school,
            association=obj.association,
            revoked_by=request.user,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for membership in queryset.select_related("user", "school", "association"):
            self.delete_model(request, membership)
