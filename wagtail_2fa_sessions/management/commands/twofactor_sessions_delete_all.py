from ._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Delete every session record and all session data the session store keeps; "
        "everyone is logged out."
    )
    action = "delete_all"
    destructive = True
    warning = "This logs out everyone and deletes all {count} session records."
    done_message = "{count} session records deleted"
