"""Issue 10 — domiciliation bancaire: direct-debit mandates, the orders sent to the banks each month
(one file per bank) and the banks' reject files (rak_billing.direct_debit_models)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rak_billing", "0015_refund"),
        ("rak_customer", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DebitBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(max_length=30, unique=True, verbose_name='référence du lot')),
                ('period', models.DateField(help_text='Premier jour du mois des prélèvements.', verbose_name='mois')),
                ('bank_code', models.CharField(max_length=3, verbose_name='code banque')),
                ('bank_name', models.CharField(max_length=80, verbose_name='banque')),
                ('orders_count', models.PositiveIntegerField(default=0, verbose_name='ordres')),
                ('total_amount', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='montant total')),
                ('file', models.FileField(blank=True, upload_to='debits/exports/%Y/%m/', verbose_name='fichier')),
                ('file_name', models.CharField(max_length=120, verbose_name='nom du fichier')),
                ('created_at', models.DateTimeField(verbose_name='exporté le')),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='exporté par')),
            ],
            options={
                'verbose_name': 'fichier de prélèvements',
                'verbose_name_plural': 'fichiers de prélèvements',
                'ordering': ['-created_at', 'bank_code'],
                'permissions': [('export_debitbatch', 'Peut exporter les prélèvements du mois')],
            },
        ),
        migrations.CreateModel(
            name='DebitRejectImport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file_name', models.CharField(max_length=255, verbose_name='fichier')),
                ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='empreinte SHA-256')),
                ('file', models.FileField(blank=True, upload_to='debits/rejects/%Y/%m/', verbose_name='fichier importé')),
                ('created_at', models.DateTimeField(verbose_name='importé le')),
                ('rows_total', models.PositiveIntegerField(default=0, verbose_name='lignes')),
                ('rows_rejected', models.PositiveIntegerField(default=0, verbose_name='rejets enregistrés')),
                ('rows_unchanged', models.PositiveIntegerField(default=0, verbose_name='déjà enregistrés')),
                ('rows_errors', models.PositiveIntegerField(default=0, verbose_name='lignes en erreur')),
                ('report', models.JSONField(blank=True, default=list, verbose_name='rapport')),
                ('archived_at', models.DateTimeField(blank=True, null=True, verbose_name='archivé le')),
                ('archive_reason', models.CharField(blank=True, max_length=255, verbose_name="motif de l'archivage")),
                ('archived_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='archivé par')),
                ('uploaded_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='importé par')),
            ],
            options={
                'verbose_name': 'fichier de rejets de prélèvements',
                'verbose_name_plural': 'fichiers de rejets de prélèvements',
                'ordering': ['-created_at'],
                'permissions': [('archive_debitrejectimport', 'Peut archiver un fichier de rejets de prélèvements')],
            },
        ),
        migrations.CreateModel(
            name='Mandate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(max_length=20, unique=True, verbose_name='référence du mandat')),
                ('rib', models.CharField(max_length=24, verbose_name='RIB')),
                ('bank_code', models.CharField(max_length=3, verbose_name='code banque')),
                ('bank_name', models.CharField(max_length=80, verbose_name='banque')),
                ('signed_date', models.DateField(verbose_name='date de signature')),
                ('status', models.CharField(choices=[('ACTIVE', 'Actif'), ('REVOKED', 'Révoqué')], default='ACTIVE', max_length=8, verbose_name='statut')),
                ('request_reference', models.CharField(blank=True, help_text='N° de la demande de domiciliation bancaire.', max_length=20, verbose_name='demande')),
                ('created_at', models.DateTimeField(verbose_name='créé le')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='révoqué le')),
                ('revoke_reason', models.CharField(blank=True, max_length=255, verbose_name='motif de la révocation')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='créé par')),
                ('dossier', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='mandates', to='rak_customer.dossier', verbose_name='dossier')),
                ('revoked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='révoqué par')),
            ],
            options={
                'verbose_name': 'mandat de prélèvement',
                'verbose_name_plural': 'mandats de prélèvement',
                'ordering': ['-created_at', '-id'],
                'permissions': [('revoke_mandate', 'Peut révoquer un mandat de prélèvement (avec motif)')],
            },
        ),
        migrations.CreateModel(
            name='DebitOrder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(max_length=20, unique=True, verbose_name="référence de l'ordre")),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='montant')),
                ('status', models.CharField(choices=[('SENT', 'Envoyé à la banque'), ('REJECTED', 'Rejeté par la banque')], default='SENT', max_length=8, verbose_name='statut')),
                ('reject_code', models.CharField(blank=True, max_length=10, verbose_name='code de rejet')),
                ('reject_reason', models.CharField(blank=True, max_length=255, verbose_name='motif du rejet')),
                ('rejected_at', models.DateTimeField(blank=True, null=True, verbose_name='rejeté le')),
                ('batch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='rak_billing.debitbatch', verbose_name='fichier')),
                ('bill', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='debit_orders', to='rak_billing.bill', verbose_name='facture')),
                ('payment', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='debit_order', to='rak_billing.payment', verbose_name='paiement')),
                ('reject_import', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='rak_billing.debitrejectimport', verbose_name='fichier de rejets')),
                ('mandate', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='rak_billing.mandate', verbose_name='mandat')),
            ],
            options={
                'verbose_name': 'ordre de prélèvement',
                'verbose_name_plural': 'ordres de prélèvement',
                'ordering': ['-id'],
            },
        ),
        migrations.AddConstraint(
            model_name='mandate',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['ACTIVE', 'REVOKED'])), name='mandate_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='mandate',
            constraint=models.CheckConstraint(condition=models.Q(('rib__regex', '^[0-9]{24}$')), name='mandate_rib_24_digits'),
        ),
        migrations.AddConstraint(
            model_name='mandate',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'ACTIVE')), fields=('dossier',), name='mandate_one_active_per_dossier', violation_error_message='Ce dossier a déjà un mandat de prélèvement actif.'),
        ),
        migrations.AddConstraint(
            model_name='debitorder',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['SENT', 'REJECTED'])), name='debitorder_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='debitorder',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='debitorder_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='debitorder',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'SENT')), fields=('bill',), name='debitorder_one_sent_per_bill'),
        ),
    ]
