"""The permission matrix as data: who may read and write every page and API operation.

``tests/test_permission_matrix.py`` walks the URL resolver and the OpenAPI schema, and fails for
any route or operation that has no row here (or falls under no rule there). Each row says, for
every role, what a read (GET) and a write (POST, or the operation's own method for the API)
must answer, in a small vocabulary:

- ``ok``: 2xx, or a redirect that is not to a log-in page.
- ``login``: a page redirects to the log-in page (or to the second-factor code prompt); the API
  answers 401/403 to an anonymous caller, or to a session that has not passed the second factor.
- ``denied``: 404. The project never answers 403 to a signed-in person who may not see
  something: another school's, association's or learner's object, or a desk that is not theirs,
  "does not exist" (``schools.roles.require_school_admin``, ``reviewer_required``,
  ``officer_required``, ``IsCreditOfficer``, every ``learner=...`` lookup).
- ``forbidden``: 403 to a signed-in person (only Django's admin answers this way).
- ``invalid``: an entitled person's write with an empty body is refused: 400, a 200 that
  re-renders a form with errors, or a page (or redirect) carrying an error message.
- ``method``: 405.

A write answered anything but ``ok`` must leave every row as it was; the test checks that.

When a cell shows an access bug, the row keeps the correct outcome and names the bug in ``bugs``
(the test is then a strict xfail); every bug is listed in the report of the issue that added this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OK = "ok"
LOGIN = "login"
DENIED = "denied"
FORBIDDEN = "forbidden"
INVALID = "invalid"
METHOD = "method"
OUTCOMES = (OK, LOGIN, DENIED, FORBIDDEN, INVALID, METHOD)

ROLES = (
    "visitor",
    "learner",
    "other_learner",
    "school_admin",
    "other_school_admin",
    "reviewer",
    "other_reviewer",
    "credit_officer",
    "superuser",
    # A superuser whose session passed the password but not the second factor (by any route:
    # the admin's old log-in form, a test client, a confirmation link). Nothing opens to it but
    # the code prompt: pages redirect there, the API answers 403 (issue 14). ``cells`` gives it
    # ``login`` unless a row names it: only the health checks, which touch no one's data.
    "staff_password_only",
)
PASSWORD_ONLY = "staff_password_only"
READ, WRITE = "read", "write"


def cells(default: str, **by_role: str) -> dict[str, str]:
    """Every role's outcome: ``default`` unless named."""
    unknown = set(by_role) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}: the roles are {ROLES}")
    table = {role: by_role.get(role, default) for role in ROLES}
    table[PASSWORD_ONLY] = by_role.get(PASSWORD_ONLY, LOGIN)
    bad = {outcome for outcome in table.values() if outcome not in OUTCOMES}
    if bad:
        raise ValueError(f"unknown outcomes {sorted(bad)}: the outcomes are {OUTCOMES}")
    return table


def entitled(profile: dict[str, str], outcome: str) -> dict[str, str]:
    """``profile`` with every ``ok`` turned into ``outcome``: what the entitled get for a write
    with an empty body (``invalid``) or with a method the route does not take (``method``)."""
    return {role: outcome if value == OK else value for role, value in profile.items()}


# --- Profiles: who gets in ------------------------------------------------------------------------

# Anyone, signed in or not.
PUBLIC = cells(OK)
# The health checks: open to every process and person, whatever their session.
HEALTH = cells(OK, staff_password_only=OK)
HEALTH_WRITE = cells(METHOD, staff_password_only=METHOD)
# Anyone signed in. Someone without a learner record (staff who never signed up) is shown the
# learner area empty, with the way to begin; opening it makes no record (issue 14: no GET writes).
SIGNED_IN = cells(OK, visitor=LOGIN)
# Anyone with a learner record; someone signed in without one is told there is nothing (404).
LEARNERS = cells(DENIED, visitor=LOGIN, learner=OK, other_learner=OK)
# The learner's own object: anybody else, superusers included, is told it does not exist.
OWN = cells(DENIED, visitor=LOGIN, learner=OK)
# This school's administrators and superusers.
SCHOOL = cells(DENIED, visitor=LOGIN, school_admin=OK, superuser=OK)
# The review desk itself: any reviewer (each sees their own association's queue) and superusers.
REVIEW_DESK = cells(DENIED, visitor=LOGIN, reviewer=OK, other_reviewer=OK, superuser=OK)
# One object of this association on the review desk.
REVIEW_OWN = cells(DENIED, visitor=LOGIN, reviewer=OK, superuser=OK)
# The credit-bank officers' desk.
OFFICER = cells(DENIED, visitor=LOGIN, credit_officer=OK, superuser=OK)
# The method is checked right after log-in, before any role: every signed-in person gets 405.
METHOD_SIGNED_IN = cells(METHOD, visitor=LOGIN)
METHOD_ALL = cells(METHOD)


@dataclass(frozen=True)
class Row:
    """One page route: the outcome of a read and of a write for every role.

    ``kwargs`` names the world value for each URL argument (``World.values``) where the argument's
    name alone is ambiguous; ``query`` is added to its URL; ``writes`` is False for a route
    that must never store anything, whoever calls it, so even its ``ok`` cells are checked.
    ``body`` is the write's body when an empty one would prove little: a write that succeeds for
    the entitled, so that everyone else is refused a real attempt (values starting with ``@`` name
    a world value). ``bugs`` maps (role, "read" | "write") to the reason of a known access bug
    (a strict xfail).
    """

    read: dict[str, str]
    write: dict[str, str]
    kwargs: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] | None = None
    writes: bool = True
    bugs: dict[tuple[str, str], str] = field(default_factory=dict)


def read_only(read: dict[str, str], write: dict[str, str] | None = None, **options) -> Row:
    """A page that only shows: a POST (answered however) stores nothing."""
    return Row(read=read, write=read if write is None else write, writes=False, **options)


# --- Pages, by full URL name --------------------------------------------------------------------

PAGES: dict[str, Row] = {
    # Health checks (ouc_portal.health): public, no state.
    "healthz": read_only(HEALTH, HEALTH_WRITE),
    "readyz": read_only(HEALTH, HEALTH_WRITE),
    # The network (schools.views): public pages; a POST is answered like a GET.
    "schools:home": read_only(PUBLIC),
    "schools:school_list": read_only(PUBLIC),
    "schools:school_detail": read_only(PUBLIC, kwargs={"slug": "school"}),
    "schools:association_list": read_only(PUBLIC),
    "schools:association_detail": read_only(PUBLIC, kwargs={"slug": "association"}),
    "schools:centre_list": read_only(PUBLIC),
    "schools:centre_detail": read_only(PUBLIC, kwargs={"code": "centre"}),
    # Public verification (certificates.views.public): GET/HEAD only.
    "verify:lookup": read_only(PUBLIC, METHOD_ALL),
    "verify:page": read_only(PUBLIC, METHOD_ALL, kwargs={"code": "verification_code"}),
    "verify:credential": read_only(PUBLIC, METHOD_ALL, kwargs={"code": "verification_code"}),
    "verify:issuer": read_only(PUBLIC, METHOD_ALL, kwargs={"slug": "school"}),
    "verify:status_list": read_only(PUBLIC, METHOD_ALL),
    "verify:achievement": read_only(PUBLIC, METHOD_ALL, kwargs={"path": "achievement_path"}),
    "verify:issuer_key": read_only(PUBLIC, METHOD_ALL, kwargs={"slug": "school", "version": "key_version"}),
    "verify:issuer_status_list": read_only(PUBLIC, METHOD_ALL, kwargs={"slug": "school", "purpose": "status_purpose"}),
    # The catalogue and the learner's own area (enrolment.views.learner).
    "enrolment:programme_list": read_only(PUBLIC),
    "enrolment:programme_detail": read_only(PUBLIC, kwargs={"slug": "programme"}),
    # Anyone signed in may apply (staff are sent to finish a learner profile first); the learner
    # already studies the programme, and is told so.
    "enrolment:intake_apply": Row(
        SIGNED_IN, cells(OK, visitor=LOGIN, learner=INVALID), kwargs={"public_id": "open_intake"}
    ),
    "enrolment:my_dashboard": read_only(SIGNED_IN),
    "enrolment:my_profile": Row(SIGNED_IN, entitled(SIGNED_IN, INVALID)),
    # The learner withdraws (the reason is optional).
    "enrolment:my_enrolment": Row(
        OWN, OWN, kwargs={"public_id": "enrolment"}, body={"reason": "Moving to another city"}
    ),
    # The person's own data and account (ouc_portal.accounts.views): whoever is signed in sees
    # and downloads only their own; GET only.
    "me:data": read_only(SIGNED_IN, METHOD_SIGNED_IN),
    "me:data_download": read_only(SIGNED_IN, METHOD_SIGNED_IN),
    # Closing needs the password typed again and a ticked box; staff are refused with a message.
    "me:close": Row(SIGNED_IN, entitled(SIGNED_IN, INVALID)),
    # Certificates and transcripts (certificates.views.learner).
    "certs:home": read_only(SIGNED_IN, METHOD_SIGNED_IN),
    # The learner may ask for the type their completed enrolment earns; anyone else is told why not.
    "certs:request": Row(
        SIGNED_IN, cells(INVALID, visitor=LOGIN, learner=OK), kwargs={"code": "eligible_type"}
    ),
    # Anyone signed in may ask for a transcript of their own record.
    "certs:transcript_request": Row(METHOD_SIGNED_IN, SIGNED_IN),
    "certs:transcript": read_only(OWN, METHOD_SIGNED_IN, kwargs={"public_id": "transcript"}),
    "certs:transcript_status": read_only(OWN, METHOD_SIGNED_IN, kwargs={"public_id": "transcript"}),
    "certs:transcript_pdf": read_only(OWN, METHOD_SIGNED_IN, kwargs={"public_id": "transcript"}),
    "certs:certificate": read_only(OWN, METHOD_SIGNED_IN),
    "certs:certificate_pdf": read_only(OWN, METHOD_SIGNED_IN),
    # The learner's credit bank (creditbank.views.learner).
    "credits:home": read_only(SIGNED_IN, METHOD_SIGNED_IN),
    # The file of a learner's record: someone without one has no file (it opens no account).
    "credits:lifelong_file": read_only(LEARNERS, METHOD_SIGNED_IN),
    "credits:outcome_submit": Row(SIGNED_IN, entitled(SIGNED_IN, INVALID)),
    "credits:outcome_detail": read_only(OWN, METHOD_SIGNED_IN, kwargs={"public_id": "outcome"}),
    # Evidence: its owner and the credit bank's officers.
    "credits:evidence_download": read_only(
        cells(DENIED, visitor=LOGIN, learner=OK, credit_officer=OK, superuser=OK),
        METHOD_SIGNED_IN,
        kwargs={"public_id": "evidence"},
    ),
    "credits:audit": read_only(OWN, METHOD_SIGNED_IN, kwargs={"public_id": "enrolment"}),
    "credits:what_if": read_only(OWN, METHOD_SIGNED_IN, kwargs={"public_id": "enrolment"}),
    # The credit-bank officers' desk (creditbank.views.officer): the role before the method.
    "creditbank:home": read_only(OFFICER, entitled(OFFICER, METHOD)),
    "creditbank:outcome_review": Row(
        OFFICER, OFFICER, kwargs={"public_id": "outcome"}, body={"action": "start_review"}
    ),
    "creditbank:outcome_revoke": Row(
        OFFICER, OFFICER, kwargs={"public_id": "accredited_outcome"}, body={"reason": "Forged"}
    ),
    "creditbank:evidence_download": read_only(
        OFFICER, entitled(OFFICER, METHOD), kwargs={"public_id": "evidence"}
    ),
    "creditbank:standard_list": read_only(OFFICER, entitled(OFFICER, METHOD)),
    "creditbank:standard_create": Row(OFFICER, entitled(OFFICER, INVALID)),
    "creditbank:standard_edit": Row(
        OFFICER,
        entitled(OFFICER, INVALID),
        kwargs={"code": "standard_code", "version": "standard_version"},
    ),
    "creditbank:standard_new_version": Row(
        OFFICER,
        entitled(OFFICER, INVALID),
        kwargs={"code": "standard_code", "version": "standard_version"},
    ),
    "creditbank:rule_list": read_only(OFFICER, entitled(OFFICER, METHOD)),
    "creditbank:rule_create": Row(OFFICER, entitled(OFFICER, INVALID)),
    "creditbank:rule_edit": Row(
        OFFICER, entitled(OFFICER, INVALID), kwargs={"code": "rule_code", "version": "rule_version"}
    ),
    "creditbank:rule_new_version": Row(
        OFFICER, entitled(OFFICER, INVALID), kwargs={"code": "rule_code", "version": "rule_version"}
    ),
    "creditbank:learner": Row(OFFICER, entitled(OFFICER, INVALID), kwargs={"public_id": "learner"}),
    # A school's read-only view of its learners' audits: its administrators and the officers.
    "creditbank:school_audit": read_only(
        cells(DENIED, visitor=LOGIN, school_admin=OK, credit_officer=OK, superuser=OK),
        METHOD_SIGNED_IN,
        kwargs={"public_id": "enrolment"},
    ),
    # The school staff area (enrolment.views.staff). GET-only and POST-only views check the
    # method right after log-in, before the school: a 405 says nothing about the school's data.
    "manage:home": read_only(
        cells(DENIED, visitor=LOGIN, school_admin=OK, other_school_admin=OK, superuser=OK),
        METHOD_SIGNED_IN,
    ),
    "manage:school": read_only(SCHOOL, METHOD_SIGNED_IN),
    "manage:programme_create": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:programme_detail": read_only(SCHOOL, METHOD_SIGNED_IN),
    "manage:programme_edit": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:programme_status": Row(METHOD_SIGNED_IN, SCHOOL, body={"status": "archived"}),
    "manage:group_create": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:group_edit": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    # Confirmed by a POST: the group is deleted (from a draft nobody has enrolled in).
    "manage:group_delete": Row(
        SCHOOL, SCHOOL, kwargs={"programme_slug": "draft_programme", "group_id": "draft_group"}
    ),
    "manage:group_course_add": Row(METHOD_SIGNED_IN, SCHOOL, body={"course": "@free_course"}),
    # Confirmed by a POST: the course leaves the group.
    "manage:group_course_remove": Row(SCHOOL, SCHOOL),
    "manage:course_list": read_only(SCHOOL, METHOD_SIGNED_IN),
    "manage:course_create": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:course_edit": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:intake_create": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:intake_edit": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    # Without a course chosen there is nothing to record: the page is shown again.
    "manage:intake_results": Row(SCHOOL, SCHOOL),
    "manage:intake_results_upload": Row(METHOD_SIGNED_IN, entitled(SCHOOL, INVALID)),
    "manage:intake_results_template": read_only(SCHOOL, METHOD_SIGNED_IN),
    "manage:application_queue": Row(SCHOOL, entitled(SCHOOL, INVALID)),
    "manage:enrolment_detail": Row(
        SCHOOL,
        SCHOOL,
        kwargs={"public_id": "enrolment"},
        body={"action": "withdraw", "reason": "Left the company"},
    ),
    "manage:reports": read_only(SCHOOL, METHOD_SIGNED_IN),
    # The review desk (certificates.views.review): the role before the method.
    "review:queue": read_only(REVIEW_DESK, entitled(REVIEW_DESK, METHOD)),
    # Approving this association's request: another association's reviewer is told it is not
    # in their queue.
    "review:bulk": Row(
        entitled(REVIEW_DESK, METHOD),
        cells(DENIED, visitor=LOGIN, reviewer=OK, other_reviewer=INVALID, superuser=OK),
        body={"action": "approve-selected", "requests": "@request", "confirmed": "1"},
    ),
    "review:request": Row(
        REVIEW_OWN, REVIEW_OWN, kwargs={"public_id": "request"}, body={"action": "start_review"}
    ),
    "review:batch": read_only(
        REVIEW_OWN, entitled(REVIEW_DESK, METHOD), kwargs={"public_id": "batch"}
    ),
    "review:batch_progress": read_only(
        REVIEW_OWN, entitled(REVIEW_DESK, METHOD), kwargs={"public_id": "batch"}
    ),
    "review:certificates": read_only(REVIEW_DESK, entitled(REVIEW_DESK, METHOD)),
    "review:revoke": Row(REVIEW_OWN, REVIEW_OWN, body={"reason": "Forged"}),
    # Partner systems' API tokens (certificates.views.tokens): each reviewer makes tokens for
    # their own association (a reviewer of one association is offered no choice, so the body's
    # association is ignored); another association's token is not found.
    "review:tokens": read_only(REVIEW_DESK, entitled(REVIEW_DESK, METHOD)),
    "review:token_create": Row(
        REVIEW_DESK, REVIEW_DESK, body={"name": "Partner records sync", "association": "@association"}
    ),
    "review:token_revoke": Row(REVIEW_OWN, REVIEW_OWN, kwargs={"public_id": "token"}),
}


# --- The API, by OpenAPI path and method ----------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One API operation: every role's outcome (``method`` rows pad a path to a read and a write).

    ``body`` as for ``Row``: a body the entitled succeed with, so everyone else is refused a real
    attempt."""

    cells: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] | None = None
    bugs: dict[str, str] = field(default_factory=dict)  # role -> reason (a strict xfail)


API_LOGIN = cells(OK, visitor=LOGIN)  # DRF's IsAuthenticated
API_OWN = cells(DENIED, visitor=LOGIN, learner=OK)
API_SCHOOL = cells(DENIED, visitor=LOGIN, school_admin=OK, superuser=OK)
API_OFFICER = cells(DENIED, visitor=LOGIN, credit_officer=OK, superuser=OK)
# The reviewers' API (certificates.api.review: IsReviewer, the role before the method).
API_REVIEW_DESK = cells(DENIED, visitor=LOGIN, reviewer=OK, other_reviewer=OK, superuser=OK)
API_REVIEW_OWN = cells(DENIED, visitor=LOGIN, reviewer=OK, superuser=OK)
# IsAuthenticated passes, then DRF answers 405 before the view looks anything up.
API_METHOD_SIGNED_IN = cells(METHOD, visitor=LOGIN)


def public_read() -> dict[str, Op]:
    """A public, read-only endpoint: anyone reads, nobody writes (405)."""
    return {"GET": Op(PUBLIC), "POST": Op(METHOD_ALL)}


API: dict[str, dict[str, Op]] = {
    # The network and the catalogue: public, read-only.
    "/api/v1/schools/": public_read(),
    "/api/v1/schools/{slug}/": public_read(),
    "/api/v1/associations/": public_read(),
    "/api/v1/associations/{slug}/": public_read(),
    "/api/v1/centres/": public_read(),
    "/api/v1/centres/{code}/": public_read(),
    "/api/v1/programmes/": public_read(),
    "/api/v1/programmes/{slug}/": public_read(),
    "/api/v1/courses/": public_read(),
    "/api/v1/intakes/": public_read(),
    "/api/v1/intakes/{public_id}/": public_read(),
    # Verification: anonymous by design, rate limited.
    "/api/v1/verify/{code}/": public_read(),
    # The learner's own.
    # Applying: the learner already studies the programme, staff have no learner profile yet;
    # both are told so.
    "/api/v1/me/enrolments/": {
        "GET": Op(API_LOGIN),
        "POST": Op(
            cells(INVALID, visitor=LOGIN, other_learner=OK), body={"intake": "@open_intake"}
        ),
    },
    "/api/v1/me/enrolments/{public_id}/": {"GET": Op(API_OWN), "POST": Op(API_METHOD_SIGNED_IN)},
    # An empty body withdraws (the reason is optional).
    "/api/v1/me/enrolments/{public_id}/withdraw/": {
        "GET": Op(API_METHOD_SIGNED_IN),
        "POST": Op(API_OWN),
    },
    # Reads never open an account: staff who never used the learner area have none (404).
    "/api/v1/me/credit-account/": {
        "GET": Op(cells(DENIED, visitor=LOGIN, learner=OK, other_learner=OK)),
        "POST": Op(API_METHOD_SIGNED_IN),
    },
    "/api/v1/me/ledger/": {"GET": Op(API_LOGIN), "POST": Op(API_METHOD_SIGNED_IN)},
    "/api/v1/me/outcomes/": {"GET": Op(API_LOGIN), "POST": Op(entitled(API_LOGIN, INVALID))},
    "/api/v1/me/outcomes/{public_id}/": {"GET": Op(API_OWN), "POST": Op(API_METHOD_SIGNED_IN)},
    "/api/v1/me/audits/{public_id}/": {"GET": Op(API_OWN), "POST": Op(API_METHOD_SIGNED_IN)},
    "/api/v1/me/audits/{public_id}/what-if/": {
        "GET": Op(API_OWN, query={"standard": "standard_code", "level": "4"}),
        "POST": Op(API_METHOD_SIGNED_IN),
    },
    # A school's queue and audits: its administrators (and superusers).
    "/api/v1/manage/schools/{school_slug}/enrolments/": {
        "GET": Op(API_SCHOOL),
        "POST": Op(API_METHOD_SIGNED_IN),
    },
    "/api/v1/manage/schools/{school_slug}/enrolments/{public_id}/": {
        "GET": Op(API_SCHOOL),
        "POST": Op(API_METHOD_SIGNED_IN),
    },
    "/api/v1/manage/schools/{school_slug}/enrolments/{public_id}/decide/": {
        "GET": Op(API_METHOD_SIGNED_IN),
        "POST": Op(API_SCHOOL, body={"decision": "accept"}),
    },
    # The page (creditbank:school_audit) lets credit-bank officers read these audits too, and this
    # API promises "the same permissions as the pages" (creditbank/api/views.py).
    "/api/v1/manage/schools/{school_slug}/audits/{public_id}/": {
        "GET": Op(cells(DENIED, visitor=LOGIN, school_admin=OK, credit_officer=OK, superuser=OK)),
        "POST": Op(API_METHOD_SIGNED_IN),
    },
    "/api/v1/manage/intakes/{intake_public_id}/results/": {
        "GET": Op(API_METHOD_SIGNED_IN),
        "POST": Op(entitled(API_SCHOOL, INVALID)),
    },
    # The credit-bank officers (IsCreditOfficer: the role before the method).
    "/api/v1/credit-bank/outcomes/": {
        "GET": Op(API_OFFICER),
        "POST": Op(entitled(API_OFFICER, METHOD)),
    },
    "/api/v1/credit-bank/outcomes/{public_id}/": {
        "GET": Op(API_OFFICER),
        "POST": Op(entitled(API_OFFICER, METHOD)),
    },
    # Taking a submitted outcome into review needs no body.
    "/api/v1/credit-bank/outcomes/{public_id}/start-review/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(API_OFFICER),
    },
    "/api/v1/credit-bank/outcomes/{public_id}/accredit/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(
            API_OFFICER,
            body={
                "standard_code": "@standard_code",
                "standard_version": "@standard_version",
                "reason": "Certificate checked",
            },
        ),  # fmt: skip
    },
    "/api/v1/credit-bank/outcomes/{public_id}/reject/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(API_OFFICER, body={"reason": "Not a recognised body"}),
    },
    "/api/v1/credit-bank/outcomes/{public_id}/revoke/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(API_OFFICER, body={"reason": "Forged"}),
    },
    "/api/v1/credit-bank/standards/": {
        "GET": Op(API_OFFICER),
        "POST": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/standards/{code}/{version}/": {
        "GET": Op(API_OFFICER),
        "PUT": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/standards/{code}/{version}/new-version/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/rules/": {
        "GET": Op(API_OFFICER),
        "POST": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/rules/{code}/{version}/": {
        "GET": Op(API_OFFICER),
        "PUT": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/rules/{code}/{version}/new-version/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/conversions/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/transfers/": {
        "GET": Op(entitled(API_OFFICER, METHOD)),
        "POST": Op(entitled(API_OFFICER, INVALID)),
    },
    "/api/v1/credit-bank/accounts/{number}/": {
        "GET": Op(API_OFFICER),
        "POST": Op(entitled(API_OFFICER, METHOD)),
    },
    # The reviewers' desk, for reviewers and partner tokens: another association's request or
    # certificate is not found. Approving and taking into review need no body.
    "/api/v1/review/requests/": {
        "GET": Op(API_REVIEW_DESK),
        "POST": Op(entitled(API_REVIEW_DESK, METHOD)),
    },
    "/api/v1/review/requests/{public_id}/": {
        "GET": Op(API_REVIEW_OWN),
        "POST": Op(entitled(API_REVIEW_DESK, METHOD)),
    },
    "/api/v1/review/requests/{public_id}/start-review/": {
        "GET": Op(entitled(API_REVIEW_DESK, METHOD)),
        "POST": Op(API_REVIEW_OWN),
    },
    "/api/v1/review/requests/{public_id}/approve/": {
        "GET": Op(entitled(API_REVIEW_DESK, METHOD)),
        "POST": Op(API_REVIEW_OWN),
    },
    "/api/v1/review/requests/{public_id}/reject/": {
        "GET": Op(entitled(API_REVIEW_DESK, METHOD)),
        "POST": Op(API_REVIEW_OWN, body={"reason": "Missing evidence"}),
    },
    "/api/v1/review/certificates/": {
        "GET": Op(API_REVIEW_DESK),
        "POST": Op(entitled(API_REVIEW_DESK, METHOD)),
    },
    "/api/v1/review/certificates/{serial}/": {
        "GET": Op(API_REVIEW_OWN),
        "POST": Op(entitled(API_REVIEW_DESK, METHOD)),
    },
    "/api/v1/review/certificates/{serial}/revoke/": {
        "GET": Op(entitled(API_REVIEW_DESK, METHOD)),
        "POST": Op(API_REVIEW_OWN, body={"reason": "Forged"}),
    },
}

# URL and query arguments of API paths whose name alone is ambiguous: (path, argument) -> value.
API_KWARGS: dict[tuple[str, str], str] = {
    ("/api/v1/schools/{slug}/", "slug"): "school",
    ("/api/v1/associations/{slug}/", "slug"): "association",
    ("/api/v1/centres/{code}/", "code"): "centre",
    ("/api/v1/programmes/{slug}/", "slug"): "programme",
    ("/api/v1/intakes/{public_id}/", "public_id"): "open_intake",
    (
        "/api/v1/manage/schools/{school_slug}/enrolments/{public_id}/decide/",
        "public_id",
    ): "application",
    ("/api/v1/verify/{code}/", "code"): "verification_code",
    ("/api/v1/me/outcomes/{public_id}/", "public_id"): "outcome",
    ("/api/v1/credit-bank/outcomes/{public_id}/", "public_id"): "outcome",
    ("/api/v1/credit-bank/outcomes/{public_id}/start-review/", "public_id"): "outcome",
    ("/api/v1/credit-bank/outcomes/{public_id}/accredit/", "public_id"): "outcome",
    ("/api/v1/credit-bank/outcomes/{public_id}/reject/", "public_id"): "outcome",
    ("/api/v1/credit-bank/outcomes/{public_id}/revoke/", "public_id"): "accredited_outcome",
    ("/api/v1/review/requests/{public_id}/", "public_id"): "request",
    ("/api/v1/review/requests/{public_id}/start-review/", "public_id"): "request",
    ("/api/v1/review/requests/{public_id}/approve/", "public_id"): "request",
    ("/api/v1/review/requests/{public_id}/reject/", "public_id"): "request",
    ("/api/v1/credit-bank/standards/{code}/{version}/", "code"): "standard_code",
    ("/api/v1/credit-bank/standards/{code}/{version}/", "version"): "standard_version",
    ("/api/v1/credit-bank/standards/{code}/{version}/new-version/", "code"): "standard_code",
    ("/api/v1/credit-bank/standards/{code}/{version}/new-version/", "version"): "standard_version",
    ("/api/v1/credit-bank/rules/{code}/{version}/", "code"): "rule_code",
    ("/api/v1/credit-bank/rules/{code}/{version}/", "version"): "rule_version",
    ("/api/v1/credit-bank/rules/{code}/{version}/new-version/", "code"): "rule_code",
    ("/api/v1/credit-bank/rules/{code}/{version}/new-version/", "version"): "rule_version",
}
# Every other URL argument, by its name alone (pages and API alike).
DEFAULT_KWARGS: dict[str, str] = {
    "school_slug": "school",
    "programme_slug": "programme",
    "group_id": "group",
    "course_code": "course",
    "intake_id": "intake",
    "intake_public_id": "intake",
    "public_id": "enrolment",
    "serial": "certificate_serial",
    "list_number": "status_list",
    "number": "account",
}
