from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RakCustomerConfig(AppConfig):
    name = "rak_customer"
    verbose_name = _("Clientèle")

    def ready(self) -> None:
        from rak_customer.groups import staff_groups_post_migrate

        # Not business flow: the staff groups need the permissions post_migrate creates.
        post_migrate.connect(staff_groups_post_migrate, dispatch_uid="rak_customer.staff_groups_sync")
