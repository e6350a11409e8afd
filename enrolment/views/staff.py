"""School staff area (/manage/): only the schools the person administers.

Every view resolves the school from the URL and calls ``require_school_admin`` before it reads
anything else: another school's administrator, a learner or a reviewer gets a 404, never a 403
that would confirm the school's data exists. Writes go through ``enrolment.services`` and
``enrolment.results``; a refusal (``EnrolmentError``) is shown next to its field or as a message.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enrolment import selectors, services
from enrolment.models import (
    ENROLMENT_TRANSITIONS,
    Course,
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    Intake,
    Programme,
    ProgrammeStatus,
    RequirementGroup,
)
from enrolment.results import ASSESSABLE_STATES, CSV_COLUMNS, result_record, results_import_csv
from enrolment.services import PROGRAMME_TRANSITIONS, EnrolmentError
from enrolment.staff_forms import (
    BulkDecisionForm,
    CourseForm,
    CourseResultsForm,
    EnrolmentActionForm,
    GroupCourseForm,
    GroupForm,
    IntakeForm,
    ProgrammeForm,
    QueueFilterForm,
    ResultsCourseForm,
    ResultsUploadForm,
    add_service_error,
)
from schools.models import IndustrySchool
from schools.roles import require_school_admin

S = EnrolmentStatus
QUEUE_PAGE_SIZE = 50
# The states the dashboard counts per intake (the report shows them all).
DASHBOARD_STATES = (S.APPLIED, S.WAITLISTED, S.ACCEPTED, S.ACTIVE, S.COMPLETED)


def _school(request: HttpRequest, school_slug: str) -> IndustrySchool:
    school = get_object_or_404(IndustrySchool, slug=school_slug)
    require_school_admin(request.user, school.pk)
    return school


def _programme(school: IndustrySchool, slug: str) -> Programme:
    return get_object_or_404(Programme.objects.select_related("school"), school=school, slug=slug)


def _intake(school: IndustrySchool, public_id) -> Intake:
    return get_object_or_404(
        Intake.objects.select_related("programme__school", "centre"),
        public_id=public_id,
        programme__school=school,
    )


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _school_url(name: str, school: IndustrySchool, **kwargs) -> str:
    return reverse(f"manage:{name}", kwargs={"school_slug": school.slug, **kwargs})


def _programme_url(programme: Programme) -> str:
    return reverse(
        "manage:programme_detail",
        kwargs={"school_slug": programme.school.slug, "programme_slug": programme.slug},
    )


# --- Entry and dashboard --------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    schools = list(selectors.administered_schools(request.user))
    if not schools:
        raise Http404
    if len(schools) == 1:
        return redirect("manage:school", school_slug=schools[0].slug)
    return render(request, "enrolment/staff/home.html", {"schools": schools})


@login_required
@require_GET
def school_dashboard(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    rows = selectors.school_intake_report(school)
    return render(
        request,
        "enrolment/staff/dashboard.html",
        {
            "school": school,
            "programmes": Programme.objects.filter(school=school)
            .annotate(group_count=Count("groups"))
            .order_by("code"),
            "rows": rows,
            "table": [
                {"row": row, "counts": [row.count(s) for s in DASHBOARD_STATES]} for row in rows
            ],
            "states": [(s, S(s).label) for s in DASHBOARD_STATES],
            "waiting": Enrolment.objects.filter(programme__school=school, status=S.APPLIED).count(),
        },
    )


# --- Programmes -----------------------------------------------------------------------------------


def _programme_form_page(
    request: HttpRequest, school: IndustrySchool, programme: Programme
) -> HttpResponse:
    creating = programme.pk is None
    # Taken before the form binds: a refused edit must not link to a slug that was never saved.
    back_url = _school_url("school", school) if creating else _programme_url(programme)
    back_name = programme.name
    form = ProgrammeForm(request.POST or None, instance=programme)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_save(programme=form.instance)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if creating:
                done = _(
                    "Programme %(code)s created as a draft. Give it its structure, then publish it."
                )
            else:
                done = _("Programme %(code)s saved.")
            messages.success(request, done % {"code": programme.code})
            return redirect(_programme_url(programme))
    return render(
        request,
        "enrolment/staff/programme_form.html",
        {
            "school": school,
            "creating": creating,
            "back_url": back_url,
            "back_name": back_name,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def programme_create(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    return _programme_form_page(
        request, school, Programme(school=school, status=ProgrammeStatus.DRAFT)
    )


@login_required
@require_http_methods(["GET", "POST"])
def programme_edit(request: HttpRequest, school_slug: str, programme_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    return _programme_form_page(request, school, _programme(school, programme_slug))


@login_required
@require_GET
def programme_detail(request: HttpRequest, school_slug: str, programme_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    try:
        programme = selectors.programme_for_page(slug=programme_slug, include_unpublished=True)
    except Programme.DoesNotExist:
        raise Http404 from None
    if programme.school_id != school.pk:
        raise Http404
    status_actions = [
        (status, _("Publish") if status == ProgrammeStatus.PUBLISHED else _("Archive"))
        for status in (ProgrammeStatus.PUBLISHED, ProgrammeStatus.ARCHIVED)
        if status in PROGRAMME_TRANSITIONS.get(programme.status, set())
    ]
    return render(
        request,
        "enrolment/staff/programme_detail.html",
        {
            "school": school,
            "programme": programme,
            "groups": programme.groups.all(),
            "intakes": programme.intakes.all(),
            "courses": Course.objects.filter(school=school).order_by("code"),
            "status_actions": status_actions,
        },
    )


@login_required
@require_POST
def programme_status(request: HttpRequest, school_slug: str, programme_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    programme = _programme(school, programme_slug)
    status = request.POST.get("status", "")
    if status not in ProgrammeStatus.values:
        messages.error(request, _("Choose publish or archive."))
        return redirect(_programme_url(programme))
    try:
        programme = services.programme_set_status(programme=programme, status=status)
    except EnrolmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(code)s is now %(status)s.")
            % {"code": programme.code, "status": programme.get_status_display()},
        )
    return redirect(_programme_url(programme))


# --- Programme structure --------------------------------------------------------------------------


def _group(programme: Programme, group_id: int) -> RequirementGroup:
    return get_object_or_404(RequirementGroup, programme=programme, pk=group_id)


def _group_form_page(
    request: HttpRequest, school, programme: Programme, group: RequirementGroup
) -> HttpResponse:
    creating = group.pk is None
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_save(group=form.instance)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Requirement group saved."))
            return redirect(_programme_url(programme))
    return render(
        request,
        "enrolment/staff/group_form.html",
        {
            "school": school,
            "programme": programme,
            "group": None if creating else group,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest, school_slug: str, programme_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    programme = _programme(school, programme_slug)
    position = programme.groups.count()
    return _group_form_page(
        request, school, programme, RequirementGroup(programme=programme, position=position)
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(
    request: HttpRequest, school_slug: str, programme_slug: str, group_id: int
) -> HttpResponse:
    school = _school(request, school_slug)
    programme = _programme(school, programme_slug)
    return _group_form_page(request, school, programme, _group(programme, group_id))


@login_required
@require_http_methods(["GET", "POST"])
def group_delete(
    request: HttpRequest, school_slug: str, programme_slug: str, group_id: int
) -> HttpResponse:
    school = _school(request, school_slug)
    programme = _programme(school, programme_slug)
    group = _group(programme, group_id)
    if request.method == "POST":
        try:
            services.group_delete(group=group)
        except EnrolmentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Requirement group %(name)s deleted.") % {"name": group.name}
            )
        return redirect(_programme_url(programme))
    return render(
        request,
        "enrolment/staff/confirm.html",
        {
            "school": school,
            "programme": programme,
            "title": _("Delete the group %(name)s?") % {"name": group.name},
            "explanation": _(
                "The group and its list of courses leave the programme's structure. The courses themselves stay in the school's course list."
            ),
            "confirm_label": _("Delete group"),
            "cancel_url": _programme_url(programme),
        },
    )


@login_required
@require_POST
def group_course_add(
    request: HttpRequest, school_slug: str, programme_slug: str, group_id: int
) -> HttpResponse:
    school = _school(request, school_slug)
    programme = _programme(school, programme_slug)
    group = _group(programme, group_id)
    # The form looks the code up (a NUL in a multipart body would reach PostgreSQL otherwise).
    form = GroupCourseForm(request.POST, school=school)
    course = form.cleaned_data["course"] if form.is_valid() else None
    if course is None:
        messages.error(request, _("Choose one of the school's courses."))
        return redirect(_programme_url(programme))
    try:
        services.group_add_course(group=group, course=course)
    except EnrolmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(code)s added to %(group)s.") % {"code": course.code, "group": group.name}
        )
    return redirect(_programme_url(programme))


@login_required
@require_http_methods(["GET", "POST"])
def group_course_remove(
    request: HttpRequest, school_slug: str, programme_slug: str, group_id: int, course_code: str
) -> HttpResponse:
    school = _school(request, school_slug)
    programme = _programme(school, programme_slug)
    group = _group(programme, group_id)
    course = get_object_or_404(
        Course, school=school, code=course_code, group_memberships__group=group
    )
    if request.method == "POST":
        try:
            services.group_remove_course(group=group, course=course)
        except EnrolmentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(code)s removed from %(group)s.") % {"code": course.code, "group": group.name},
            )
        return redirect(_programme_url(programme))
    return render(
        request,
        "enrolment/staff/confirm.html",
        {
            "school": school,
            "programme": programme,
            "title": _("Remove %(code)s from %(group)s?")
            % {"code": course.code, "group": group.name},
            "explanation": _(
                "The course leaves this programme's structure; it stays in the school's course list."
            ),
            "confirm_label": _("Remove course"),
            "cancel_url": _programme_url(programme),
        },
    )


# --- Courses --------------------------------------------------------------------------------------


@login_required
@require_GET
def course_list(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    courses = (
        Course.objects.filter(school=school)
        .annotate(programme_count=Count("group_memberships"))
        .order_by("code")
    )
    return render(
        request, "enrolment/staff/course_list.html", {"school": school, "courses": courses}
    )


def _course_form_page(request: HttpRequest, school: IndustrySchool, course: Course) -> HttpResponse:
    course_code = course.code  # before the form binds: the heading names the saved course
    form = CourseForm(request.POST or None, instance=course, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_save(course=form.instance)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Course %(code)s saved.") % {"code": course.code})
            return redirect(_school_url("course_list", school))
    return render(
        request,
        "enrolment/staff/course_form.html",
        {"school": school, "course_code": course_code, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def course_create(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    return _course_form_page(request, school, Course(school=school))


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, school_slug: str, course_code: str) -> HttpResponse:
    school = _school(request, school_slug)
    return _course_form_page(
        request, school, get_object_or_404(Course, school=school, code=course_code)
    )


# --- Intakes --------------------------------------------------------------------------------------


def _intake_form_page(
    request: HttpRequest, school: IndustrySchool, intake: Intake, initial=None
) -> HttpResponse:
    intake_label = f"{intake.programme.code} {intake.term_label}" if intake.pk else ""
    form = IntakeForm(request.POST or None, instance=intake, school=school, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            intake = services.intake_save(intake=form.instance)
        except EnrolmentError as exc:
            # The service's one refusal of its own is about seats: show it by the capacity.
            add_service_error(form, exc, field="capacity")
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Intake %(intake)s saved.") % {"intake": intake.term_label})
            return redirect(_programme_url(intake.programme))
    return render(
        request,
        "enrolment/staff/intake_form.html",
        {"school": school, "intake_label": intake_label, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake_create(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    initial = {"requires_approval": True}
    programme = Programme.objects.filter(
        school=school, slug=request.GET.get("programme", "")
    ).first()
    if programme is not None:
        initial["programme"] = programme.pk
    return _intake_form_page(request, school, Intake(), initial=initial)


@login_required
@require_http_methods(["GET", "POST"])
def intake_edit(request: HttpRequest, school_slug: str, intake_id) -> HttpResponse:
    school = _school(request, school_slug)
    return _intake_form_page(request, school, _intake(school, intake_id))


# --- Application queue ----------------------------------------------------------------------------

BULK_DONE = {
    "accept": lambda n: ngettext("%(n)s accepted", "%(n)s accepted", n),
    "reject": lambda n: ngettext("%(n)s rejected", "%(n)s rejected", n),
    "activate": lambda n: ngettext("%(n)s now studying", "%(n)s now studying", n),
}


def _learner_label(enrolment: Enrolment) -> str:
    return enrolment.learner.legal_name or enrolment.learner.user.email


@login_required
@require_http_methods(["GET", "POST"])
def application_queue(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    school_enrolments = Enrolment.objects.filter(programme__school=school).select_related(
        "learner__user"
    )
    bulk_form = BulkDecisionForm(request.POST or None, enrolments=school_enrolments)
    if request.method == "POST":
        if bulk_form.is_valid():
            decision = bulk_form.cleaned_data["decision"]
            outcome = services.enrolment_decide_many(
                enrolments=bulk_form.cleaned_data["enrolments"],
                decision=decision,
                actor=request.user,
                reason=bulk_form.cleaned_data["reason"],
            )
            done = BULK_DONE[decision](len(outcome.done)) % {"n": len(outcome.done)}
            if outcome.refused:
                reasons = "; ".join(
                    f"{_learner_label(e)}: {message}" for e, message in outcome.refused
                )
                messages.warning(
                    request,
                    _("%(done)s, %(m)s refused: %(reasons)s")
                    % {"done": done, "m": len(outcome.refused), "reasons": reasons},
                )
            else:
                messages.success(request, _("%(done)s.") % {"done": done})
            return redirect(request.get_full_path())
        for errors in bulk_form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(request.get_full_path())

    filters = QueueFilterForm(request.GET, school=school)
    intake, status = filters.values()
    page = Paginator(
        selectors.application_queue(school=school, intake=intake, status=status), QUEUE_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "enrolment/staff/queue.html",
        {
            "school": school,
            "filters": filters,
            "page_obj": page,
            "status": status,
            "bulk_form": bulk_form,
        },
    )


# --- One enrolment --------------------------------------------------------------------------------

ACTION_SERVICES = {
    "accept": services.enrolment_accept,
    "reject": services.enrolment_reject,
    "activate": services.enrolment_activate,
    "complete": services.enrolment_complete,
    "withdraw": services.enrolment_withdraw,
}
ACTION_DONE = {
    "accept": gettext_lazy("accepted"),
    "reject": gettext_lazy("rejected"),
    "activate": gettext_lazy("now studying"),
    "complete": gettext_lazy("completed"),
    "withdraw": gettext_lazy("withdrawn"),
}


def _allowed_actions(enrolment: Enrolment) -> list[str]:
    allowed = ENROLMENT_TRANSITIONS.get(enrolment.status, frozenset())
    return [action for action, to in EnrolmentActionForm.ACTIONS.items() if to in allowed]


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_detail(request: HttpRequest, school_slug: str, public_id) -> HttpResponse:
    school = _school(request, school_slug)
    try:
        enrolment = selectors.staff_enrolment(school=school, public_id=public_id)
    except Enrolment.DoesNotExist:
        raise Http404 from None
    here = _school_url("enrolment_detail", school, public_id=enrolment.public_id)
    form = EnrolmentActionForm(request.POST or None)
    if request.method == "POST":
        back = _next_url(request, here)
        if form.is_valid():
            action = form.cleaned_data["action"]
            try:
                ACTION_SERVICES[action](
                    enrolment=enrolment, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except EnrolmentError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("%(name)s: %(done)s.")
                    % {"name": _learner_label(enrolment), "done": ACTION_DONE[action]},
                )
                return redirect(back)
        if back != here:
            # Posted from the queue: report there rather than leave the list.
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, f"{_learner_label(enrolment)}: {error}")
            return redirect(back)
    posted_action = form.data.get("action") if form.is_bound else None
    return render(
        request,
        "enrolment/staff/enrolment_detail.html",
        {
            "school": school,
            "enrolment": enrolment,
            "learner": enrolment.learner,
            "history": enrolment.history.select_related("actor").order_by("at", "pk"),
            "results": enrolment.results.select_related("course", "recorded_by").order_by(
                "course__code"
            ),
            "actions": _allowed_actions(enrolment),
            "form": form,
            "posted_action": posted_action,
            "waitlist_position": services.waitlist_position(enrolment),
        },
    )


# --- Results --------------------------------------------------------------------------------------


def _results_page(
    request: HttpRequest, school, intake: Intake, *, upload_form=None, report=None
) -> HttpResponse:
    courses = selectors.programme_courses(intake.programme)
    course_codes = [c.code for c in courses]
    course_form = ResultsCourseForm(
        request.GET if "course" in request.GET else None, courses=courses
    )
    course = (
        course_form.cleaned_data["course"]
        if course_form.is_bound and course_form.is_valid()
        else None
    )
    entry_form, rows, recorded_now = None, [], 0
    if course is not None:
        enrolments = list(selectors.assessable_enrolments(intake, ASSESSABLE_STATES))
        existing = {
            r.enrolment_id: r
            for r in CourseResult.objects.filter(
                enrolment__intake=intake, course=course
            ).select_related("recorded_by")
        }
        open_rows = [e for e in enrolments if e.pk not in existing]
        posted = request.method == "POST" and upload_form is None
        entry_form = CourseResultsForm(request.POST if posted else None, enrolments=open_rows)
        if posted and entry_form.is_valid():
            filled = list(entry_form.filled_rows())
            if not filled:
                entry_form.add_error(None, _("Enter at least one score."))
            for enrolment, score, day in filled:
                try:
                    result, created = result_record(
                        enrolment=enrolment,
                        course=course,
                        score=score,
                        assessed_on=day,
                        actor=request.user,
                    )
                except EnrolmentError as exc:
                    entry_form.add_error(entry_form.score_name(enrolment), exc.message)
                else:
                    existing[enrolment.pk] = result
                    recorded_now += int(created)
            if filled and not entry_form.errors:
                messages.success(
                    request,
                    ngettext("%(n)s result recorded.", "%(n)s results recorded.", recorded_now)
                    % {"n": recorded_now},
                )
                return redirect(f"{request.path}?course={course.code}")
        for enrolment in enrolments:
            result = existing.get(enrolment.pk)
            row = {"enrolment": enrolment, "result": result}
            if result is None:
                row["score"] = entry_form[entry_form.score_name(enrolment)]
                row["date"] = entry_form[entry_form.date_name(enrolment)]
            rows.append(row)
    return render(
        request,
        "enrolment/staff/results.html",
        {
            "school": school,
            "intake": intake,
            "course_form": course_form,
            "course": course,
            "entry_form": entry_form,
            "rows": rows,
            "recorded_now": recorded_now,
            "upload_form": upload_form or ResultsUploadForm(),
            "report": report,
            "csv_columns": CSV_COLUMNS,
            "example_day": timezone.localdate().isoformat(),
            "course_codes": course_codes,
            # The upload answers a POST at an address without GET: switching language there
            # shows the results page again, in the other language.
            "language_next": (
                _school_url("intake_results", school, intake_id=intake.public_id)
                if upload_form is not None
                else None
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake_results(request: HttpRequest, school_slug: str, intake_id) -> HttpResponse:
    school = _school(request, school_slug)
    return _results_page(request, school, _intake(school, intake_id))


@login_required
@require_POST
def intake_results_upload(request: HttpRequest, school_slug: str, intake_id) -> HttpResponse:
    school = _school(request, school_slug)
    intake = _intake(school, intake_id)
    form = ResultsUploadForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        try:
            report = results_import_csv(
                intake=intake, data=form.cleaned_data["file"].read(), actor=request.user
            )
        except EnrolmentError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        else:
            if report.ok:
                messages.success(
                    request,
                    _("%(created)s recorded, %(unchanged)s already recorded.")
                    % {"created": report.created, "unchanged": report.unchanged},
                )
                return redirect(_school_url("intake_results", school, intake_id=intake.public_id))
    return _results_page(request, school, intake, upload_form=form, report=report)


@login_required
@require_GET
def intake_results_template(request: HttpRequest, school_slug: str, intake_id) -> HttpResponse:
    school = _school(request, school_slug)
    intake = _intake(school, intake_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="results-{intake.programme.code}-{intake.year}-{intake.season}.csv"'
    )
    response.write("\ufeff")  # Excel reads UTF-8 only with the byte-order mark; the import drops it
    csv.writer(response).writerow(CSV_COLUMNS)
    return response


# --- Reports --------------------------------------------------------------------------------------


def _csv_cell(value) -> str:
    """Neutralise spreadsheet formulas in text that staff typed (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


@login_required
@require_GET
def reports(request: HttpRequest, school_slug: str) -> HttpResponse:
    school = _school(request, school_slug)
    rows = selectors.school_intake_report(school)
    states = [(s, S(s).label) for s in selectors.REPORT_STATES]
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                _("Programme code"),
                _("Programme"),
                _("Term"),
                _("Learning centre"),
                _("Seats"),
                _("Applications"),
            ]
            + [str(label) for _s, label in states]
            + [_("Completion rate")]
        )
        for row in rows:
            intake = row.intake
            writer.writerow(
                [
                    _csv_cell(intake.programme.code),
                    _csv_cell(intake.programme.name),
                    intake.term_label,
                    _csv_cell(intake.centre.name),
                    intake.capacity,
                    row.applications,
                    *(row.count(s) for s, _label in states),
                    _rate(row.completion_rate),
                ]
            )
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="{school.slug}-enrolment-report-{stamp}.csv"'
        )
        return response
    table = [
        {
            "row": row,
            "counts": [row.count(s) for s, _label in states],
            "rate": _rate(row.completion_rate),
        }
        for row in rows
    ]
    return render(
        request,
        "enrolment/staff/reports.html",
        {"school": school, "rows": rows, "table": table, "states": states},
    )
