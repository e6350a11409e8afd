"""The holder's name as signed, on every certificate and transcript.

Existing rows take it from their stored credential's ``credentialSubject.name`` (empty when the
credential names nobody, or none is stored yet), in one UPDATE per table: the profile's name of
today is never read, since it may have changed after the credential was signed.
"""

from django.db import migrations, models
from django.db.models import Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce


def fill_from_credentials(apps, schema_editor):
    for name in ("Certificate", "Transcript"):
        model = apps.get_model("certificates", name)
        model.objects.using(schema_editor.connection.alias).filter(credential__isnull=False).update(
            holder_name=Coalesce(KT("credential__credentialSubject__name"), Value(""))
        )


class Migration(migrations.Migration):

    dependencies = [
        ("certificates", "0005_review_queue_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="holder_name",
            field=models.CharField(blank=True, editable=False, max_length=200, verbose_name="holder's name, as signed"),
        ),
        migrations.AddField(
            model_name="transcript",
            name="holder_name",
            field=models.CharField(blank=True, editable=False, max_length=200, verbose_name="holder's name, as signed"),
        ),
        migrations.RunPython(fill_from_credentials, migrations.RunPython.noop, elidable=True),
    ]
