from ._maintenance import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Revoke every active session: everyone is logged out at their next request and "
        "must log in and pass 2FA again. The records stay, marked revoked."
    )
    action = "revoke_all"
    destructive = True
    warning = "This logs out everyone: {count} active sessions will be revoked."
    done_message = "{count} sessions revoked"
