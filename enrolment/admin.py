from django.contrib import admin

from enrolment.models import Learner


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["user", "registered_at"]
    search_fields = ["user__email", "user__name"]
    readonly_fields = ["public_id", "registered_at"]
    raw_id_fields = ["user"]
