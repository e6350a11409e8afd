from django.urls import path

from certificates.views import learner

app_name = "certs"
urlpatterns = [
    path("me/certificates/", learner.home, name="home"),
    path("me/certificates/request/<slug:code>/", learner.request_certificate, name="request"),
    path("me/certificates/transcripts/", learner.transcript_request, name="transcript_request"),
    path("me/certificates/transcripts/<uuid:public_id>/", learner.transcript_detail, name="transcript"),
    path("me/certificates/transcripts/<uuid:public_id>/status.json", learner.transcript_status, name="transcript_status"),
    path("me/certificates/transcripts/<uuid:public_id>/transcript.pdf", learner.transcript_pdf, name="transcript_pdf"),
    path("me/certificates/<str:serial>/", learner.certificate_detail, name="certificate"),
    path("me/certificates/<str:serial>/certificate.pdf", learner.certificate_pdf, name="certificate_pdf"),
]
